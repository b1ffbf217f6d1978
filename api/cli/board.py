"""`prospect-graph leads`: the lead board, claims, dispositions, precision, refit and alerts."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import StoreOpt, check_format, existing_store, leads_app, store_at
from graph.schema import FAMILIES

__all__ = ["leads", "leads_claim", "leads_joint_visit", "leads_set", "leads_precision", "leads_refit", "leads_alerts"]


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
    from graph.settings import get_settings
    from leads.board import build_board

    check_format(format, ("table", "json", "csv"))
    board = build_board(existing_store(store), manager=manager, branch=branch, family=family, status=status,
                        collapse_groups=collapse_groups, limit=limit)
    print_board(board, format, get_settings().lang)


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

    st = store_at(store)
    check_manager(st, manager, lead_facts(st, entity))  # the API's rules: unknown manager, wrong branch or side
    claim = claim_lead(st, entity, manager, by)
    typer.echo(f"{entity} is owned by {claim['owner']} (status {claim['status']})")


@leads_app.command("joint-visit")
def leads_joint_visit(
    entity: Annotated[str, typer.Argument(help="entity id of a shared lead")],
    manager: Annotated[str, typer.Option(help="the other anchor's manager who asks the owner")],
    by: Annotated[str, typer.Option(help="who records it")] = "cli",
    note: Annotated[str | None, typer.Option(help="a free-text note for the owner")] = None,
    store: StoreOpt = None,
) -> None:
    """Ask a shared lead's owner for a joint visit (the API's rules: a manager the row is shared with)."""
    from api.auth import User
    from api.lead_access import check_joint_visit
    from leads.board import board_row, request_joint_visit

    st = store_at(store)
    lead = board_row(st, entity)
    check_joint_visit(st, User(name=by, role="admin"), lead, manager)  # an existing manager
    row = request_joint_visit(st, lead, manager, by, note=note)
    typer.echo(f"{entity}: {row['manager']} asked {row['owner']} for a joint visit at {row['requested_at']}")


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

    st = store_at(store)
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

    table = precision_at_k(ledger(store_at(store)), k=k, by=by)
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

    st = store_at(store)
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
    from graph.settings import get_settings
    from leads.alerts import alert_text, read_alerts

    lang = get_settings().lang  # the local operator: sentences as stored, like `entity 360`
    for alert in read_alerts(store_at(store), limit=limit, kind=kind):
        typer.echo(f"{alert['at']}  {alert['kind']:22s} {alert_text(alert, lang)}  {alert['link']}")
