"""Progress is drawn on a terminal and silent otherwise (graph/progress.py)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from graph.progress import stages, track


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100, color_system=None), out


def test_stages_are_drawn_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROSPECT_GRAPH_NO_PROGRESS", raising=False)
    console, out = _console(terminal=True)
    with stages("ingest", ["read payments", "derive edges"], console=console) as step:
        step("read payments")
        step("derive edges")
    text = out.getvalue()
    assert "ingest" in text and "derive edges" in text and "2/2" in text and "done" in text


def test_stages_are_silent_when_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROSPECT_GRAPH_NO_PROGRESS", raising=False)
    console, out = _console(terminal=False)
    with stages("ingest", ["read payments"], console=console) as step:
        step("read payments")
    assert out.getvalue() == ""


def test_the_setting_silences_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROSPECT_GRAPH_NO_PROGRESS", "1")
    console, out = _console(terminal=True)
    assert list(track(range(3), "rows", console=console)) == [0, 1, 2]
    with stages("score", ["referral"], console=console) as step:
        step("referral")
    assert out.getvalue() == ""


def test_track_is_drawn_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROSPECT_GRAPH_NO_PROGRESS", raising=False)
    console, out = _console(terminal=True)
    assert list(track(range(3), "rows", console=console)) == [0, 1, 2]
    assert "rows" in out.getvalue()


def test_ingest_and_score_are_silent_when_captured(demo_bundle, tmp_path, capsys) -> None:
    from graph.networkx_store import NetworkxStore
    from ingest.job import run_ingest
    from scoring.run import score_all

    store = NetworkxStore(tmp_path / "store")
    run_ingest(store, demo_bundle)
    score_all(store, families=["referral"])
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
