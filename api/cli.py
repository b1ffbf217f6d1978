"""The command line, `prospect-graph` (DESIGN.md, "Command line").

User mistakes give one clear line on stderr and a non-zero exit, never a traceback:
exit 2 for a bad request or data, 3 for a capability not in this build, 4 for a backend
that cannot be reached, 1 for anything unexpected.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from graph import open_store
from graph.errors import AppError, BackendUnavailable, InvalidRequest, NotFound, NotImplementedYet
from graph.schema import FAMILIES
from graph.settings import get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Prospect Graph: who to approach next, and through whom.")
token_app = typer.Typer(no_args_is_help=True, help="Manage API bearer tokens.")
export_app = typer.Typer(no_args_is_help=True, help="Export the store.")
app.add_typer(token_app, name="token")
app.add_typer(export_app, name="export")
leads_app = typer.Typer(help="The lead board: one row per entity across families, routed to one owner.")
app.add_typer(leads_app, name="leads")

StoreOpt = Annotated[Path | None, typer.Option("--store", help="store folder (default $PROSPECT_GRAPH_GRAPH__STORE "
                                                              "or ./prospect-graph-store)")]


def _store(path: Path | None) -> Any:
    return open_store(path, get_settings().graph)


def _existing_store(path: Path | None) -> Any:
    """The store at `path`, which must hold data: reading a store never ingested is a user mistake."""
    st = _store(path)
    if st.version is None:
        raise NotFound(f"no store with data at {st.root}; run `prospect-graph ingest BUNDLE --store {st.root}` first")
    return st


def _err(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


# ------------------------------------------------------------------ commands
@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="folder to write the bundle into")],
    scale: Annotated[int | None, typer.Option(help="about N payment rows, other tables in proportion")] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same bundle)")] = 7,
) -> None:
    """Write a demo bundle (or a benchmark-scale one with --scale)."""
    from demo.bundle import write_bundle

    stats = write_bundle(out, seed=seed, scale=scale)
    typer.echo(f"wrote {out}: " + ", ".join(f"{k} {v:,}" for k, v in stats.items()))


@app.command()
def ingest(
    bundle: Annotated[Path, typer.Argument(help="bundle folder, or a mapping.yaml")],
    store: StoreOpt = None,
    mapping: Annotated[Path | None, typer.Option(help="YAML mapping file")] = None,
) -> None:
    """Ingest a bundle into the store; prints a summary and writes a rejects report."""
    from ingest.job import run_ingest

    summary = run_ingest(_store(store), bundle, mapping=mapping)
    typer.echo(summary.render())


@app.command()
def score(store: StoreOpt = None) -> None:
    """Score every prospect family and keep the results in the store."""
    from scoring.run import score_all

    summary = score_all(_existing_store(store))
    for family, rows in summary.rows.items():
        typer.echo(f"{family:15s} {rows:8,d} rows  {summary.seconds[family]:7.2f}s")
    for family in summary.missing:
        typer.echo(f"{family:15s} not implemented in this build")


@app.command()
def prospects(
    family: Annotated[str, typer.Argument(help=" | ".join(FAMILIES))],
    store: StoreOpt = None,
    kind: Annotated[str | None, typer.Option(help="only this kind (e.g. upstream, payroll)")] = None,
    anchor: Annotated[str | None, typer.Option(help="every prospect of this anchor client")] = None,
    association: Annotated[str | None, typer.Option(help="only this association's")] = None,
    employer: Annotated[str | None, typer.Option(help="only this payroll employer's")] = None,
    branch: Annotated[str | None, typer.Option(help="only rows of this branch")] = None,
    manager: Annotated[str | None, typer.Option(help="only rows for this manager")] = None,
    min_score: Annotated[float | None, typer.Option(min=0, max=100, help="lowest score, 0-100")] = None,
    band: Annotated[str | None, typer.Option(help="near_threshold | below_threshold | above_threshold")] = None,
    limit: Annotated[int, typer.Option(min=1, help="rows to show")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="rows to skip")] = 0,
    lang: Annotated[str | None, typer.Option(help="zh | en (default: the setting)")] = None,
    format: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
) -> None:
    """List the scored prospects of a family, best first (the same filters as the API)."""
    from api.render import print_prospects

    if format not in ("table", "json", "csv"):
        raise InvalidRequest(f"unknown format {format!r}; choose table, json or csv")
    if lang not in (None, "zh", "en"):
        raise InvalidRequest(f"unknown language {lang!r}; choose zh or en")
    filters = {"kind": kind, "anchor": anchor, "association": association, "employer": employer,
               "branch": branch, "manager": manager, "min_score": min_score, "band": band}
    shown = print_prospects(_existing_store(store), family, limit=limit, offset=offset, fmt=format, lang=lang,
                            filters=filters)
    if shown == 0:
        from scoring.answer import why_empty

        message, mistake = why_empty(_existing_store(store), family,
                                     {k: (None if v is None else str(v)) for k, v in filters.items()})
        if mistake:
            raise InvalidRequest(message)
        _err(message)


@app.command()
def path(
    source: Annotated[str, typer.Argument(help="entity id")],
    target: Annotated[str, typer.Argument(help="entity id")],
    store: StoreOpt = None,
    max_hops: Annotated[int, typer.Option(min=1, max=8, help="hop limit")] = 4,
    k: Annotated[int, typer.Option(min=1, max=20, help="how many paths")] = 3,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """The k shortest typed paths between two entities, explained in words."""
    from graph.paths import find_paths

    if format not in ("table", "json"):
        raise InvalidRequest(f"unknown format {format!r}; choose table or json")
    lang = get_settings().lang
    found = find_paths(_existing_store(store), source, target, max_hops=max_hops, k=k)
    if format == "json":
        rows = [{"nodes": p["nodes"], "edges": p["edges"], "text": p[f"text_{lang}"]} for p in found]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        for i, p in enumerate(found, 1):
            typer.echo(f"{i}. {' -> '.join(p['nodes'])}\n   {p[f'text_{lang}']}")


@app.command()
def serve(
    store: StoreOpt = None,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Serve the API and the pages (uvicorn)."""
    import uvicorn

    from api.main import create_app

    uvicorn.run(create_app(store_path=store), host=host, port=port, log_level="info", **_proxy_options())


def _proxy_options() -> dict[str, Any]:
    """X-Forwarded-For is believed only from PROSPECT_GRAPH_API__TRUSTED_PROXIES (uvicorn trusts loopback by default)."""
    from api.main import uvicorn_options

    return uvicorn_options()


@app.command()
def demo(
    serve_: Annotated[bool, typer.Option("--serve", help="then serve the API and pages")] = False,
    store: StoreOpt = None,
    bundle: Annotated[Path, typer.Option(help="where to write the demo bundle")] = Path("demo-bundle"),
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Build the demo bundle, ingest it, score it and print the top prospects of each family."""
    from api.render import print_prospects
    from demo.bundle import write_bundle
    from ingest.job import run_ingest
    from scoring.run import available_families, score_all

    write_bundle(bundle, seed=7)
    st = _store(store)
    summary = run_ingest(st, bundle)
    typer.echo(summary.render())
    from demo.months import write_month_bundles

    for month in write_month_bundles(bundle, bundle.parent / f"{bundle.name}-months"):  # tracked over time
        typer.echo(f"{month.name}: store version {run_ingest(st, month).version}")
    score_all(st)
    for family in available_families():
        typer.echo(f"\n== {family} ==")
        print_prospects(st, family, limit=5, fmt="table", per_kind=True)
    if serve_:
        import secrets

        import uvicorn

        from api.auth import add_token
        from api.main import create_app

        token = add_token(st, f"demo-{secrets.token_hex(3)}", role="admin")  # names are unique
        typer.echo(f"\nserving on http://127.0.0.1:{port}  (API docs: /docs)")
        typer.echo(f"sign in once with this link (an admin token made for the demo):\n"
                   f"  http://127.0.0.1:{port}/?token={token}\n")
        uvicorn.run(create_app(store_path=st.root), host="127.0.0.1", port=port, log_level="info",
                    **_proxy_options())


@token_app.command("add")
def token_add(
    name: Annotated[str, typer.Argument(help="who the token is for")],
    role: Annotated[str, typer.Option(help="corporate_manager | retail_manager | analyst | admin")],
    branch: Annotated[str | None, typer.Option(help="limit the token to one branch")] = None,
    manager: Annotated[str | None, typer.Option(help="the manager id this user is, if any")] = None,
    expires: Annotated[int | None, typer.Option(help="days until the token stops working")] = None,
    store: StoreOpt = None,
) -> None:
    """Create a bearer token (printed once, stored hashed); unknown branches/managers and duplicate names refused."""
    from api.auth import add_token

    typer.echo(add_token(_store(store), name, role=role, branch=branch, manager=manager, expires_days=expires))


@token_app.command("list")
def token_list(store: StoreOpt = None) -> None:
    """Every token: id, name, role, branch, manager, created, expires (never the token or its hash)."""
    from api.auth import list_tokens

    for t in list_tokens(_store(store)):
        typer.echo("\t".join(str(t.get(k) or "-") for k in ("id", "name", "role", "branch", "manager", "created",
                                                              "expires")))


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="the token's name")], store: StoreOpt = None) -> None:
    """Revoke a token by name: it and every session signed in with it stop working at once."""
    from api.auth import revoke_token

    gone = revoke_token(_store(store), name)
    typer.echo(f"revoked {gone['name']} (id {gone['id']}, {gone['role']})")


@export_app.command("neo4j-import")
def export_neo4j_import(
    out: Annotated[Path, typer.Argument(help="folder for the neo4j-admin import CSVs")],
    store: StoreOpt = None,
) -> None:
    """Write the store as `neo4j-admin database import` CSV files."""
    from graph.neo4j_export import export_import_csvs

    files = export_import_csvs(_existing_store(store), out)
    typer.echo(f"wrote {len(files)} files to {out}")


@leads_app.callback(invoke_without_command=True)
def leads(
    ctx: typer.Context,
    store: StoreOpt = None,
    manager: Annotated[str | None, typer.Option(help="only this owner's leads")] = None,
    branch: Annotated[str | None, typer.Option(help="only this branch")] = None,
    family: Annotated[str | None, typer.Option(help="only leads with a row of this family")] = None,
    status: Annotated[str | None, typer.Option(help="new | open | contacted | meeting | won | lost | ...")] = None,
    collapse_groups: Annotated[bool, typer.Option("--collapse-groups", help="one row per group")] = False,
    limit: Annotated[int, typer.Option(min=1)] = 20,
    format: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
) -> None:
    """Show the lead board (subcommands: claim, set, precision, refit, alerts)."""
    if ctx.invoked_subcommand is not None:
        return
    from api.render import print_board
    from leads.board import build_board

    if format not in ("table", "json", "csv"):
        raise InvalidRequest(f"unknown format {format!r}; choose table, json or csv")
    board = build_board(_existing_store(store), manager=manager, branch=branch, family=family, status=status,
                        collapse_groups=collapse_groups, limit=limit)
    print_board(board, format)


@leads_app.command("claim")
def leads_claim(
    entity: Annotated[str, typer.Argument(help="entity id")],
    manager: Annotated[str, typer.Option(help="the manager who takes the lead")],
    by: Annotated[str, typer.Option(help="who records it")] = "cli",
    store: StoreOpt = None,
) -> None:
    """Claim a lead for a manager (refused, naming the owner, when another manager holds it)."""
    from api.lead_access import check_manager, lead_facts
    from leads.board import claim_lead

    st = _store(store)
    check_manager(st, manager, lead_facts(st, entity))  # the API's rules: unknown manager, wrong branch or side
    claim = claim_lead(st, entity, manager, by)
    typer.echo(f"{entity} is owned by {claim['owner']} (status {claim['status']})")


@leads_app.command("set")
def leads_set(
    entity: Annotated[str, typer.Argument(help="entity id")],
    status: Annotated[str, typer.Argument(help="contacted | meeting | won | lost | not_interested | do_not_contact")],
    by: Annotated[str, typer.Option(help="who records it")] = "cli",
    owner: Annotated[str | None, typer.Option(help="the owner, when the lead is not claimed yet")] = None,
    note: Annotated[str | None, typer.Option(help="a free-text note")] = None,
    store: StoreOpt = None,
) -> None:
    """Record a disposition (kept across re-ingests)."""
    from api.lead_access import check_manager, lead_facts
    from leads.board import record_disposition

    st = _store(store)
    if owner is not None:
        check_manager(st, owner, lead_facts(st, entity))
    row = record_disposition(st, entity, status, by, owner=owner, note=note)
    typer.echo(f"{entity}: {row['status']} by {row['recorded_by']} at {row['recorded_at']} (owner {row['owner']})")


@leads_app.command("precision")
def leads_precision(
    k: Annotated[int, typer.Option(min=1, help="the k of precision at k")] = 10,
    by: Annotated[str, typer.Option(help="family | owner")] = "family",
    store: StoreOpt = None,
) -> None:
    """Precision at k of the rankings, measured from dispositions."""
    from leads.board import ledger
    from leads.refit import precision_at_k

    table = precision_at_k(ledger(_store(store)), k=k, by=by)
    typer.echo(table.to_string(index=False) if len(table) else "no dispositions recorded yet")


@leads_app.command("refit")
def leads_refit(
    family: Annotated[str, typer.Argument(help=" | ".join(FAMILIES))],
    k: Annotated[int, typer.Option(min=1)] = 10,
    store: StoreOpt = None,
) -> None:
    """Refit a family's evidence weights from dispositions; shows precision before and after."""
    from leads.board import ledger
    from leads.refit import refit_weights

    st = _store(store)
    result = refit_weights(st, ledger(st), family, k=k)
    typer.echo(f"{family}: {result.labelled} dispositioned leads; precision@{k} "
               f"before {result.precision_before:.2f}, after {result.precision_after:.2f}")
    for name, mult in sorted(result.multipliers.items()):
        typer.echo(f"  {name:30s} x{mult:.2f}")
    typer.echo("saved; set `leads: {apply_refit: true}` in your weights file to rank with it")


@leads_app.command("alerts")
def leads_alerts(
    kind: Annotated[str | None, typer.Option(help="only this alert kind")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    store: StoreOpt = None,
) -> None:
    """What changed in recent ingests: new suppliers, executives, members, threshold crossings."""
    from ingest.triggers import read_alerts

    lang = get_settings().lang
    for alert in read_alerts(_store(store), limit=limit, kind=kind):
        typer.echo(f"{alert['at']}  {alert['kind']:22s} {alert[f'text_{lang}']}  {alert['link']}")


# ------------------------------------------------------- working rhythm (leads/)
def _fmt(format: str) -> None:
    if format not in ("table", "json"):
        raise InvalidRequest(f"unknown format {format!r}; choose table or json")


def _json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=1, default=str))


@app.command()
def plan(
    store: StoreOpt = None,
    manager: Annotated[str | None, typer.Option(help="only this owner's items")] = None,
    branch: Annotated[str | None, typer.Option(help="only this branch")] = None,
    due_before: Annotated[str | None, typer.Option("--due-before", help="only items due on or before YYYY-MM-DD")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 30,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """The contact plan: what is due, overdue first, with tier (A/B/C), next action and due date."""
    from datetime import date

    from leads.plan import build_plan, plan_items

    _fmt(format)
    try:
        due = date.fromisoformat(due_before) if due_before else None
    except ValueError as exc:
        raise InvalidRequest(f"--due-before must be a date YYYY-MM-DD (got {due_before!r})") from exc
    items = plan_items(build_plan(_existing_store(store), manager=manager, branch=branch, due_before=due).head(limit))
    keys = ("entity_id", "name", "tier", "next_action", "due_on", "family", "owner", "reasons")
    if format == "json":
        _json([{k: i[k] for k in keys} | {"overdue": i["overdue"], "status": i["status"]} for i in items])
        return
    for i in items:
        late = "!" if i["overdue"] else " "
        typer.echo(f"{late}{i['due_on']}  {i['tier']}  {i['entity_id']:10s} {str(i['name'])[:24]:24s} "
                   f"{i['owner'] or '-':5s} {i['next_action']}")


@app.command()
def entity(
    entity_id: Annotated[str, typer.Argument(help="entity id")],
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """The customer 360 view of one entity (the local operator sees it unmasked)."""
    from leads.customer import customer_360

    _fmt(format)
    view = customer_360(_existing_store(store), entity_id)
    if format == "json":
        _json(view)
        return
    e = view["entity"]
    typer.echo(f"{e['id']}  {e.get('name')}  ({e.get('kind')}, branch {e.get('branch_id') or '-'})")
    typer.echo(f"products: {', '.join(view['products']) or '-'}")
    typer.echo(f"managers: {', '.join(m['id'] + ' ' + str(m['name']) for m in view['managers']) or '-'}")
    for rel in view["relations"]:
        typer.echo(f"  {rel['kind']:12s} {rel['direction']:3s} {rel['count']:5d}  {rel['amount']:>16,.2f}  "
                   f"{rel['first_on'] or ''}..{rel['last_on'] or ''}")
    money = view["money"]
    if money["paid_out"]:
        typer.echo(f"paid out {money['paid_out']:,.2f}, to other banks {money['paid_to_other_banks']:,.2f} "
                   f"({money['other_bank_share']:.0%})")
    typer.echo(f"leads to {view['leads_to']['total']} prospects; reached through it: {view['reached_through']['total']}")
    for lead in view["leads"]:
        typer.echo(f"  lead {lead['family']}/{lead['kind']} {lead['score']:.1f} ({lead['status']})")
    for alert in view["alerts"][:10]:
        typer.echo(f"  alert {alert['at']} {alert['text']}")
    for point in view["timeline"]:
        typer.echo(f"  {point['version']} {point['as_of']} {point['metric']:22s} {point['value']:,.4g}")
    for d in view["service"]["dispositions"]:
        typer.echo(f"  {d['recorded_at']} {d['status']} by {d['recorded_by']}: {d.get('note') or ''}")
    for n in view["service"]["notes"]:
        offers = "; ".join(o["offer"] for o in n["offers"])
        typer.echo(f"  note {n['recorded_at']} {n['text']}" + (f"  -> {offers}" if offers else ""))


@app.command()
def note(
    entity_id: Annotated[str, typer.Argument(help="entity id")],
    text: Annotated[str, typer.Argument(help="the note")],
    tag: Annotated[list[str] | None, typer.Option("--tag", help="a tag from settings (rhythm.tags), repeatable")] = None,
    by: Annotated[str, typer.Option(help="who records it")] = "cli",
    store: StoreOpt = None,
) -> None:
    """Keep a note in an entity's service record; its tags trigger offers."""
    from leads.notes import add_note, offers_for
    from leads.settings import load_rhythm

    settings = get_settings().scoring
    conf = load_rhythm(settings)
    kept = add_note(_existing_store(store), conf, entity_id, text, list(tag or []), by)
    typer.echo(f"{entity_id}: note kept at {kept['recorded_at']}")
    for offer in offers_for(conf, kept["tags"], settings.lang):
        typer.echo(f"  {offer['label']} -> {offer['offer']}")


@app.command()
def track(
    store: StoreOpt = None,
    employer: Annotated[str | None, typer.Option(help="a payroll employer")] = None,
    association: Annotated[str | None, typer.Option(help="an association")] = None,
    anchor: Annotated[str | None, typer.Option(help="a chain's anchor client")] = None,
    manager: Annotated[str | None, typer.Option(help="a manager")] = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """A campaign's metrics across ingests: {version, as_of, metric, value}."""
    from leads.track import read_series

    _fmt(format)
    given = {k: v for k, v in (("employer", employer), ("association", association), ("anchor", anchor),
                               ("manager", manager)) if v}
    if len(given) != 1:
        raise InvalidRequest("give exactly one of --employer, --association, --anchor, --manager")
    (scope, scope_id), = given.items()
    rows = read_series(_existing_store(store), scope, scope_id)
    items = [{"version": r["version"], "as_of": r["as_of"], "metric": r["metric"], "value": float(r["value"])}
             for r in rows.to_dict("records")]
    if format == "json":
        _json(items)
    elif not items:
        typer.echo(f"nothing tracked for {scope} {scope_id}")
    for i in items if format == "table" else []:
        typer.echo(f"{i['version']}  {i['as_of']}  {i['metric']:22s} {i['value']:,.4g}")


@app.command()
def campaigns(
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Chains and markets as one campaign row each (stores opened; merchants in three classes)."""
    from leads.campaigns import chain_campaigns, market_campaigns

    _fmt(format)
    st = _existing_store(store)
    chains, markets = chain_campaigns(st), market_campaigns(st)
    if format == "json":
        _json({"chains": chains, "markets": markets})
        return
    for c in chains:
        nxt = ", ".join(n["entity_id"] for n in c["next"])
        typer.echo(f"chain {c['anchor_id']} {c['name']}: {c['stores']} stores, {c['opened']} opened, "
                   f"{c['pending']} pending; next {nxt}")
    for m in markets:
        typer.echo(f"market {m['association_id']} {m['name']}: {m['merchants']} merchants")
        for c in m["classes"]:
            typer.echo(f"  {c['class']:7s} {c['merchants']:4d} merchants, {c['clients']} clients, "
                       f"potential {c['potential']:,.0f}  {c['package']}")


@app.command()
def outflow(
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Branch outflow: falling clients per branch, notices (query, warning), clients flagged."""
    from leads.outflow import branch_notices

    _fmt(format)
    rows = branch_notices(_existing_store(store))
    if format == "json":
        _json(rows)
        return
    for r in rows:
        typer.echo(f"{r['branch_id'] or '-':5s} {r['branch_name'] or '':8s} falling {r['falling']:3d}, "
                   f"warning {r['warning']:3d}, flagged {r['flagged']:3d}  notice: {r['notice'] or '-'}")


# --------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    """Run the CLI, turning product errors into one line and an exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except NotImplementedYet as exc:
        _err(str(exc))
        return 3
    except BackendUnavailable as exc:
        _err(str(exc))
        return 4
    except (AppError, NotFound) as exc:
        _err(str(exc))
        return 2
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("ingest", "scoring", "api", "viz", "graph"):
            _err(f"this capability is not implemented in this build ({exc.name})")
            return 3
        raise
    except FileNotFoundError as exc:
        _err(f"no such file: {exc.filename}")
        return 2
    except OSError as exc:  # permissions, a file where a folder should be, a full disk
        _err(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        return 2
    except typer.Abort:
        _err("aborted")
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except Exception as exc:  # click usage errors and the like
        code = _usage_error(exc)
        if code is None:
            raise
        return code
    return 0


def _usage_error(exc: Exception) -> int | None:
    """The exit code of a click usage error or exit (shown as one line), None for anything else.

    typer >= 0.22 vendors click as `typer._click`, whose exception classes are not click's,
    so these are recognised by name and shape rather than by class.
    """
    if type(exc).__name__ == "Exit":
        return int(getattr(exc, "exit_code", 0) or 0)
    if type(exc).__name__ == "NoArgsIsHelpError":  # a bare command group: its help, as click would show it
        text = str(exc.format_message())  # type: ignore[attr-defined]  # empty when rich printed it already
        if text.strip():
            typer.echo(text, err=True)
        return 2
    format_message = getattr(exc, "format_message", None)
    if callable(format_message) and isinstance(getattr(exc, "exit_code", None), int):
        _err(str(format_message()))
        return int(exc.exit_code) or 2  # type: ignore[attr-defined]
    return None


if __name__ == "__main__":
    sys.exit(main())
