"""`prospect-graph prospects` gives the same rows as GET /prospects/{family}, filter by filter,
and an empty answer says why."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.auth import add_token
from api.cli import app, main
from api.main import create_app
from demo import cases as dc
from tests.api.conftest import auth

FILTERS = [  # (family, CLI options, API query)
    ("supply_chain", ["--kind", "upstream"], "kind=upstream"),
    ("supply_chain", ["--anchor", dc.CORE], f"anchor={dc.CORE}"),
    ("referral", ["--association", dc.ASSOC_INSULATION], f"association={dc.ASSOC_INSULATION}"),
    ("retail_linkage", ["--employer", dc.SUPERMARKET], f"employer={dc.SUPERMARKET}"),
    ("retail_linkage", ["--branch", dc.BRANCH_WEST], f"branch={dc.BRANCH_WEST}"),
    ("supply_chain", ["--manager", dc.MGR_ASSOC], f"manager={dc.MGR_ASSOC}"),
    ("supply_chain", ["--min-score", "50"], "min_score=50"),
    ("supply_chain", ["--offset", "3"], "offset=3"),
    ("retail_linkage", ["--band", "near_threshold"], "band=near_threshold"),
    ("supply_chain", ["--lang", "en", "--kind", "downstream"], "lang=en&kind=downstream"),
    ("supply_chain", ["--lang", "zh"], "lang=zh"),
]


@pytest.fixture(scope="module")
def both(demo_store):
    token = add_token(demo_store, "parity-admin", "admin")
    with TestClient(create_app(demo_store.root)) as client:
        yield client, token, demo_store


def _cli(store, family: str, options: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["prospects", family, "--store", str(store.root), "--format", "json",
                                      "--limit", "500", *options])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("family", "options", "query"), FILTERS, ids=[" ".join(f[1]) for f in FILTERS])
def test_each_cli_filter_gives_the_api_rows(both, family, options, query):
    client, token, store = both
    code, out, err = _cli(store, family, options)
    assert code == 0, err
    cli_rows = json.loads(out)
    r = client.get(f"/prospects/{family}?{query}&limit=500", headers=auth(token))
    assert r.status_code == 200, r.text
    api_rows = r.json()["items"]
    assert cli_rows, f"{family} {options}: the demo should answer this filter"
    key = ("prospect_id", "kind", "anchor_id", "rank", "reasons")
    assert [tuple(str(row[k]) for k in key) for row in cli_rows] == [tuple(str(row[k]) for k in key) for row in api_rows]


def test_near_threshold_band_holds_the_planted_staff(both):
    _, _, store = both
    code, out, _ = _cli(store, "retail_linkage", ["--band", "near_threshold", "--kind", "payroll"])
    ids = {r["prospect_id"] for r in json.loads(out)}
    assert code == 0 and set(dc.NEAR_THRESHOLD_STAFF) <= ids
    assert len(ids) <= len(dc.NEAR_THRESHOLD_STAFF) + 10  # the band, not the whole payroll


def test_an_empty_answer_says_why(both, capsys):
    _, _, store = both

    def run(family: str, *options: str) -> tuple[int, str, str]:
        code = main(["prospects", family, "--store", str(store.root), "--format", "json", *options])
        captured = capsys.readouterr()
        return code or 0, captured.out, captured.err

    code, out, err = run("retail_linkage", "--kind", "payroll", "--anchor", dc.SUPERMARKET)
    assert code == 2 and f"{dc.SUPERMARKET} is an employer" in err and "(use --employer)" in err
    code, out, err = run("supply_chain", "--anchor", "E9999")
    assert code == 2 and "unknown id 'E9999'" in err
    code, out, err = run("supply_chain", "--min-score", "100")
    assert code == 0 and json.loads(out) == [] and "no supply_chain rows for this filter (--min-score 100.0)" in err
