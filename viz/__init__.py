"""Interactive network pictures (pyvis / vis-network) and the HTML pages that show them.

`viz.style` (the visual language), `viz.views` / `viz.chains` / `viz.payroll` (a `Picture`
per view, built from the store), `viz.render` (a picture to HTML), `viz.charts` (inline SVG),
`viz.landing` (the landing page). No HTTP here: `api/routers/pages.py` serves them.
"""
