"""`prospect-graph token`: add, list and revoke API bearer tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import StoreOpt, store_at, token_app

__all__ = ["token_add", "token_list", "token_revoke"]


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

    typer.echo(add_token(store_at(store), name, role=role, branch=branch, manager=manager, expires_days=expires))


@token_app.command("list")
def token_list(store: StoreOpt = None) -> None:
    """Every token: id, name, role, branch, manager, created, expires (never the token or its hash)."""
    from api.auth import list_tokens

    for t in list_tokens(store_at(store)):
        typer.echo("\t".join(str(t.get(k) or "-") for k in ("id", "name", "role", "branch", "manager", "created",
                                                              "expires")))


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="the token's name")], store: StoreOpt = None) -> None:
    """Revoke a token by name: it and every session signed in with it stop working at once."""
    from api.auth import revoke_token

    gone = revoke_token(store_at(store), name)
    typer.echo(f"revoked {gone['name']} (id {gone['id']}, {gone['role']})")
