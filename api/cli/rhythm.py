"""The working rhythm's commands (`leads/`): plan, entity (the 360 view), note, track, campaigns, outflow."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

import typer

from api.cli.common import StoreOpt, app, check_format, emit, existing_store
from graph.errors import InvalidRequest

__all__ = ["plan", "entity", "note", "track", "campaigns", "outflow"]


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

    check_format(format)
    try:
        due = date.fromisoformat(due_before) if due_before else None
    except ValueError as exc:
        raise InvalidRequest(f"--due-before must be a date YYYY-MM-DD (got {due_before!r})") from exc
    items = plan_items(build_plan(existing_store(store), manager=manager, branch=branch, due_before=due).head(limit))
    keys = ("entity_id", "name", "tier", "next_action", "due_on", "family", "owner", "reasons")
    emit(format, [{k: i[k] for k in keys} | {"overdue": i["overdue"], "status": i["status"]} for i in items],
         lambda _: (f"{'!' if i['overdue'] else ' '}{i['due_on']}  {i['tier']}  {i['entity_id']:10s} "
                    f"{str(i['name'])[:24]:24s} {i['owner'] or '-':5s} {i['next_action']}" for i in items))


@app.command()
def entity(
    entity_id: Annotated[str, typer.Argument(help="entity id")],
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """The customer 360 view of one entity (the local operator sees it unmasked)."""
    from leads.customer import customer_360

    check_format(format)
    emit(format, customer_360(existing_store(store), entity_id), _entity_lines)


def _entity_lines(view: dict[str, Any]) -> Iterator[str]:
    e = view["entity"]
    yield f"{e['id']}  {e.get('name')}  ({e.get('kind')}, branch {e.get('branch_id') or '-'})"
    yield f"products: {', '.join(view['products']) or '-'}"
    yield f"managers: {', '.join(m['id'] + ' ' + str(m['name']) for m in view['managers']) or '-'}"
    for rel in view["relations"]:
        yield (f"  {rel['kind']:12s} {rel['direction']:3s} {rel['count']:5d}  {rel['amount']:>16,.2f}  "
               f"{rel['first_on'] or ''}..{rel['last_on'] or ''}")
    money = view["money"]
    if money["paid_out"]:
        yield (f"paid out {money['paid_out']:,.2f}, to other banks {money['paid_to_other_banks']:,.2f} "
               f"({money['other_bank_share']:.0%})")
    yield f"leads to {view['leads_to']['total']} prospects; reached through it: {view['reached_through']['total']}"
    for lead in view["leads"]:
        yield f"  lead {lead['family']}/{lead['kind']} {lead['score']:.1f} ({lead['status']})"
    for alert in view["alerts"][:10]:
        yield f"  alert {alert['at']} {alert['text']}"
    for point in view["timeline"]:
        yield f"  {point['version']} {point['as_of']} {point['metric']:22s} {point['value']:,.4g}"
    for d in view["service"]["dispositions"]:
        yield f"  {d['recorded_at']} {d['status']} by {d['recorded_by']}: {d.get('note') or ''}"
    for n in view["service"]["notes"]:
        offers = "; ".join(o["offer"] for o in n["offers"])
        yield f"  note {n['recorded_at']} {n['text']}" + (f"  -> {offers}" if offers else "")


@app.command()
def note(
    entity_id: Annotated[str, typer.Argument(help="entity id")],
    text: Annotated[str, typer.Argument(help="the note")],
    tag: Annotated[list[str] | None, typer.Option("--tag", help="a tag from settings (rhythm.tags), repeatable")] = None,
    by: Annotated[str, typer.Option(help="who records it")] = "cli",
    store: StoreOpt = None,
) -> None:
    """Keep a note in an entity's service record; its tags trigger offers."""
    from graph.settings import get_settings
    from leads.notes import add_note, offers_for
    from leads.settings import load_rhythm

    settings = get_settings().scoring
    conf = load_rhythm(settings)
    kept = add_note(existing_store(store), conf, entity_id, text, list(tag or []), by)
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

    check_format(format)
    given = {k: v for k, v in (("employer", employer), ("association", association), ("anchor", anchor),
                               ("manager", manager)) if v}
    if len(given) != 1:
        raise InvalidRequest("give exactly one of --employer, --association, --anchor, --manager")
    (scope, scope_id), = given.items()
    rows = read_series(existing_store(store), scope, scope_id)
    items = [{"version": r["version"], "as_of": r["as_of"], "metric": r["metric"], "value": float(r["value"])}
             for r in rows.to_dict("records")]
    emit(format, items, lambda _: [f"{i['version']}  {i['as_of']}  {i['metric']:22s} {i['value']:,.4g}"
                                   for i in items] or [f"nothing tracked for {scope} {scope_id}"])


@app.command()
def campaigns(
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Chains and markets as one campaign row each (stores opened; merchants in three classes)."""
    from leads.campaigns import chain_campaigns, market_campaigns

    check_format(format)
    st = existing_store(store)
    emit(format, {"chains": chain_campaigns(st), "markets": market_campaigns(st)}, _campaign_lines)


def _campaign_lines(data: dict[str, Any]) -> Iterator[str]:
    for c in data["chains"]:
        nxt = ", ".join(n["entity_id"] for n in c["next"])
        yield (f"chain {c['anchor_id']} {c['name']}: {c['stores']} stores, {c['opened']} opened, "
               f"{c['pending']} pending; next {nxt}")
    for m in data["markets"]:
        yield f"market {m['association_id']} {m['name']}: {m['merchants']} merchants"
        for c in m["classes"]:
            yield (f"  {c['class']:7s} {c['merchants']:4d} merchants, {c['clients']} clients, "
                   f"potential {c['potential']:,.0f}  {c['package']}")


@app.command()
def outflow(
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table | json")] = "table",
) -> None:
    """Branch outflow: falling clients per branch, notices (query, warning), clients flagged."""
    from leads.outflow import branch_notices

    check_format(format)
    emit(format, branch_notices(existing_store(store)),
         lambda rows: (f"{r['branch_id'] or '-':5s} {r['branch_name'] or '':8s} falling {r['falling']:3d}, "
                       f"warning {r['warning']:3d}, flagged {r['flagged']:3d}  notice: {r['notice'] or '-'}"
                       for r in rows))

