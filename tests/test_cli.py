"""The command line: every --help works; user mistakes give one clear line and a non-zero exit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import typer

from api.cli import app, main
from demo import cases as dc


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path of the CLI, groups included."""
    out = [prefix]
    for name, cmd in getattr(group, "commands", {}).items():
        out += _commands(cmd, (*prefix, name))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_every_documented_command_exists() -> None:
    names = {c[0] for c in COMMANDS if c}
    assert {"demo", "generate", "ingest", "score", "prospects", "path", "token", "serve"} <= names
    assert ("token", "add") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "(top)")
def test_help_of_every_command(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage" in out and "--help" in out


@pytest.fixture()
def small_store(store):  # type: ignore[no-untyped-def]
    """A store holding two enterprises, so commands that read a store have one."""
    store.write({"enterprises": pd.DataFrame({"id": ["E1", "E2"], "name": ["甲公司", "乙公司"]})}, note="test")
    return store


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert "Traceback" not in captured.err + captured.out
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("argv", "fragment"), [
    (["ingest", "{missing}"], "does not exist"),
    (["prospects", "no_such_family", "--store", "{store}"], "unknown family"),
    (["prospects", "supply_chain", "--format", "xml", "--store", "{store}"], "unknown format"),
    (["prospects", "supply_chain", "--limit", "0", "--store", "{store}"], "--limit"),
    (["prospects", "supply_chain", "--no-such-option"], "No such option"),
    (["prospects", "supply_chain", "--store", "{missing}"], "no store with data"),
    (["score", "--store", "{missing}"], "no store with data"),
    (["path", "E1", "E2", "--store", "{missing}"], "no store with data"),
    (["path", "E1", "NOPE", "--store", "{store}"], "NOPE"),
    (["path", "E1", "E2", "--format", "xml", "--store", "{store}"], "unknown format"),
    (["generate", "{file}"], "is a file"),
    (["generate", "{missing}", "--scale", "many"], "--scale"),
    (["generate", "{missing}", "--scale", "5"], "at least"),
    (["generate"], "Missing argument"),
    (["token", "add", "bob", "--role", "emperor", "--store", "{store}"], "unknown role"),
    (["serve", "--port", "0"], "--port"),
    (["no-such-command"], "No such command"),
])
def test_user_mistakes_give_one_line(argv: list[str], fragment: str, small_store, tmp_path: Path,  # type: ignore[no-untyped-def]
                                     capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a folder")
    values = {"missing": str(tmp_path / "missing"), "store": str(small_store.root), "file": str(a_file)}
    code = main([arg.format(**values) for arg in argv])
    assert code == 2
    assert fragment in _one_error_line(capsys)
    assert not (tmp_path / "missing").exists()  # a mistake creates nothing


def test_bare_command_shows_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert "Usage" in captured.out + captured.err and "Traceback" not in captured.err


def test_subprocess_mistake_has_no_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "PROSPECT_GRAPH_STORE": str(tmp_path / "nowhere"), "PROSPECT_GRAPH_NO_PROGRESS": "1"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "prospects", "referral"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: no store with data at {tmp_path / 'nowhere'}; "
        f"run `prospect-graph ingest BUNDLE --store {tmp_path / 'nowhere'}` first"]
    assert done.stdout == ""


def test_generate_writes_the_demo_bundle(demo_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bundle"
    assert main(["generate", str(out)]) == 0
    assert "payroll" in capsys.readouterr().out
    assert (out / "payments.csv").read_bytes() == (demo_bundle / "payments.csv").read_bytes()


def test_prospects_json_and_csv_on_the_demo_store(demo_store, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    root = str(demo_store.root)
    assert main(["prospects", "supply_chain", "--format", "json", "--limit", "5", "--store", root]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert 0 < len(rows) <= 5
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert {"prospect_id", "name", "family", "kind", "score", "rank", "reasons"} <= set(rows[0])
    assert main(["prospects", "referral", "--format", "csv", "--store", root]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rank,prospect_id,name") and len(lines) > 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_table_speaks_the_language_with_words_and_names(demo_store, lang, capsys):  # type: ignore[no-untyped-def]
    """The terminal table is for people: kinds in words and managers by name, in the chosen language."""
    root = str(demo_store.root)
    assert main(["prospects", "supply_chain", "--kind", "upstream", "--limit", "3", "--lang", lang,
                 "--store", root]) == 0
    out = capsys.readouterr().out
    managers = demo_store.read("managers")
    owner = managers[managers["id"] == "M01"]["name"].iloc[0]
    assert f"{owner} (M01)" in out
    if lang == "zh":
        assert "上游" in out and "客户经理" in out and "upstream" not in out
    else:
        assert "Upstream" in out and "manager" in out


def test_score_builds_the_api_caches_unless_told_not_to(small_store, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    root = small_store.root
    cache = root / "cache"

    def built() -> list[str]:
        return sorted(p.name.split("-")[0] for p in cache.iterdir()) if cache.exists() else []

    assert main(["score", "--no-warm", "--store", str(root)]) == 0
    assert built() == [] and "API caches" not in capsys.readouterr().out
    assert main(["score", "--store", str(root)]) == 0
    assert "API caches" in capsys.readouterr().out
    assert built() == ["adjacency", "nodes", "table_prospects"]


def test_path_json_on_the_demo_store(demo_store, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    code = main(["path", dc.CORE, dc.TIER2_ENDORSED, "--format", "json", "--store", str(demo_store.root)])
    assert code == 0
    paths = json.loads(capsys.readouterr().out)
    assert paths and paths[0]["nodes"][0] == dc.CORE and paths[0]["nodes"][-1] == dc.TIER2_ENDORSED
    assert len(paths[0]["edges"]) == len(paths[0]["nodes"]) - 1 and paths[0]["text"]


def test_leads_on_a_store_never_ingested_is_one_clear_error(tmp_path, capsys):
    from api.cli import main

    assert main(["leads", "--store", str(tmp_path / "nothing-here")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "Traceback" not in err


def test_the_lead_board_table_speaks_words(demo_store, capsys):  # type: ignore[no-untyped-def]
    """The board's table uses the export's headers and words (families, kinds, statuses), not codes."""
    assert main(["leads", "--limit", "5", "--store", str(demo_store.root)]) == 0
    out = capsys.readouterr().out
    assert "线索形式" in out and "状态" in out and "新线索" in out
    assert not any(code in out for code in ("supply_chain/", "retail_linkage", " new "))
