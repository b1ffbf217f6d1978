"""Interactive network pictures (pyvis) and page templates."""
