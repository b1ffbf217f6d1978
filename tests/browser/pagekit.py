"""Helpers of the browser tests: the app served by uvicorn on loopback, Debian's Chromium via Playwright.

Playwright drives `/usr/bin/chromium` (never a downloaded browser). Every request the page
makes is checked: one to a host other than 127.0.0.1 fails the test. Console errors and
uncaught page errors are collected for the tests to assert on.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = os.environ.get("PROSPECT_GRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENS = Path(__file__).resolve().parents[1] / "artifacts" / "screens"


def _load_handmade() -> Any:
    path = Path(__file__).resolve().parents[1] / "viz" / "handmade.py"
    spec = importlib.util.spec_from_file_location("viz_handmade", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


handmade = _load_handmade()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running server: its base URL, its store and a token per role."""

    base: str
    store: Any
    tokens: dict[str, str] = field(default_factory=dict)


def serve(store: Any) -> Iterator[Served]:
    import uvicorn

    from api.auth import add_token
    from api.main import create_app

    tokens = {role: add_token(store, f"browser-{role}", role=role)
              for role in ("admin", "analyst", "corporate_manager", "retail_manager")}
    port = _free_port()
    config = uvicorn.Config(create_app(store_path=store.root), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", store, tokens)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class Watched:
    """A page plus what it did: console errors, page errors, requests, dialogs."""

    page: Any
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.foreign_requests == [], f"requests left the host: {self.foreign_requests}"
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"


def open_page(browser: Any, served: Served, role: str = "admin") -> Watched:
    """A new signed-in browser context whose requests are confined to 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    host = urlparse(served.base).hostname
    context.add_cookies([{"name": "pg_session", "value": served.tokens[role], "url": served.base}])
    page = context.new_page()
    watched = Watched(page)

    def route(r: Any) -> None:
        url = r.request.url
        watched.requests.append(url)
        if urlparse(url).hostname != host and not url.startswith("data:"):
            watched.foreign_requests.append(url)
            r.abort()
        else:
            r.continue_()

    page.route("**/*", route)
    page.on("console", lambda m: watched.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: watched.console_errors.append(str(e)))

    def on_dialog(d: Any) -> None:
        watched.dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    return watched


def load_picture(watched: Watched, url: str) -> dict[str, Any]:
    """Open a picture page, wait for its first frame, return its graph data."""
    response = watched.page.goto(url)
    assert response is not None and response.status == 200, url
    watched.page.wait_for_selector("#network[data-ready='1']", timeout=15_000)
    data: dict[str, Any] = json.loads(watched.page.text_content("#graph-data") or "{}")
    return data


def own_nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The picture's nodes, without the members folded inside clusters (drawn only once opened)."""
    return [n for n in data["nodes"] if "cluster" not in n]


def assert_drawn(watched: Watched, name: str) -> None:
    """Screenshot the page (kept) and check the canvas is not blank."""
    from PIL import Image

    SCREENS.mkdir(parents=True, exist_ok=True)
    watched.page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    canvas = Image.open(io.BytesIO(watched.page.locator("#network").screenshot())).convert("RGB")
    pixels = list(canvas.getdata())
    inked = sum(1 for p in pixels if sum(p) < 720)  # not (near) white; a blank canvas has none
    assert inked > 2_000, f"{name}: the canvas looks blank ({inked} inked pixels)"
    assert len(set(pixels)) > 20, f"{name}: the canvas has almost no colours"


def node_point(watched: Watched, node_id: str) -> tuple[float, float]:
    """Where vis-network drew a node, in page coordinates."""
    x, y = watched.page.evaluate(
        """([id]) => { const n = window.__network; const p = n.canvasToDOM(n.getPositions([id])[id]);
                       const r = document.getElementById('network').getBoundingClientRect();
                       return [r.left + p.x, r.top + p.y]; }""", [node_id])
    return float(x), float(y)


def click_node(watched: Watched, node_id: str) -> str:
    """Click a node where vis-network drew it; return the name the details panel shows."""
    watched.page.mouse.click(*node_point(watched, node_id))
    watched.page.wait_for_selector("#detail-name", timeout=5_000)
    return watched.page.text_content("#detail-name") or ""


def hover_node(watched: Watched, node_id: str) -> str:
    """Hover a node; return the text of the tooltip vis-network shows."""
    x, y = node_point(watched, node_id)
    watched.page.mouse.move(x - 30, y - 30)
    watched.page.mouse.move(x, y, steps=5)
    watched.page.wait_for_selector("div.vis-tooltip", state="visible", timeout=5_000)
    return watched.page.inner_text("div.vis-tooltip")


def record_figure(**figures: Any) -> None:
    """Keep a measured figure in tests/artifacts/screens/render-times.json (for notes, never asserted)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / "render-times.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    known.update(figures)
    path.write_text(json.dumps(known, indent=1))
