"""`musicd peer`: pair with friends' servers (invite, join), list them, change scopes, approve, revoke."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from musicd.domain.federation import SCOPES, Peer

__all__ = ["peer"]

_SCOPES_HELP = f"Comma-separated scopes the other server gets here: {', '.join(SCOPES)}."


def _run(ctx: click.Context, fn: Any) -> Any:
    from musicd.cli import _config, _run

    return _run(_config(ctx), fn)


def _peer_dict(p: Peer) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "url": p.url, "status": p.status, "scopes_granted": p.scopes_granted,
            "scopes_received": p.scopes_received, "music_folder_id": p.folder_no, "tracks": p.track_count,
            "synced_at": p.synced_at, "sync_error": p.sync_error, "unreachable_since": p.unreachable_since}


@click.group()
def peer() -> None:
    """Friends' servers: pair by invite, list, scopes, approve, revoke (see docs/federation.md)."""


@peer.command("invite")
@click.option("--scopes", default=",".join(SCOPES), show_default=True, help=_SCOPES_HELP)
@click.option("--approve/--no-approve", default=True, show_default=True,
              help="Activate the server that joins at once, or wait for `musicd peer approve`.")
@click.option("--hours", type=float, help="How long the invite stays valid (federation.invite_hours).")
@click.pass_context
def peer_invite(ctx: click.Context, scopes: str, approve: bool, hours: float | None) -> None:
    """Print a one-time invite for a friend's admin (they run `musicd peer join <invite>`)."""
    code = _run(ctx, lambda s: s.fed.service.invite(scopes, approve, None, hours))
    click.echo(code)


@peer.command("join")
@click.argument("invite")
@click.option("--scopes", default=",".join(SCOPES), show_default=True, help=_SCOPES_HELP)
@click.option("--url", help="The address the other server reaches this one at (federation.public_url).")
@click.pass_context
def peer_join(ctx: click.Context, invite: str, scopes: str, url: str | None) -> None:
    """Pair with the server that made INVITE."""
    p: Peer = _run(ctx, lambda s: s.fed.service.join(invite, scopes, url))
    click.echo(f"paired with {p.name} ({p.id}) at {p.url}; it lets this server: "
               f"{', '.join(p.scopes_received) or 'nothing yet'}")


@peer.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the peers as JSON on stdout.")
@click.pass_context
def peer_list(ctx: click.Context, as_json: bool) -> None:
    """The paired servers, what each may do here and what each lets this server do."""
    peers: list[Peer] = _run(ctx, lambda s: s.fed.service.list_peers())
    if as_json:
        click.echo(json.dumps([_peer_dict(p) for p in peers]))
        return
    table = Table("id", "name", "status", "we grant", "they grant", "tracks", "last sync", "problem")
    for p in peers:
        table.add_row(p.id, p.name, p.status, ",".join(p.scopes_granted), ",".join(p.scopes_received),
                      str(p.track_count), p.synced_at or "-", p.sync_error or "")
    Console().print(table)


@peer.command("scopes")
@click.argument("peer_id")
@click.argument("scopes")
@click.pass_context
def peer_scopes(ctx: click.Context, peer_id: str, scopes: str) -> None:
    """Set what PEER_ID may do here (e.g. `library,stream`); effective on its next request."""
    p: Peer = _run(ctx, lambda s: s.fed.service.set_scopes(peer_id, scopes))
    click.echo(f"{p.name} may now: {', '.join(p.scopes_granted) or 'nothing'}")


@peer.command("approve")
@click.argument("peer_id")
@click.pass_context
def peer_approve(ctx: click.Context, peer_id: str) -> None:
    """Activate a server that joined with an invite made with --no-approve."""
    p: Peer = _run(ctx, lambda s: s.fed.service.approve(peer_id))
    click.echo(f"{p.name} is {p.status}")


@peer.command("revoke")
@click.argument("peer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def peer_revoke(ctx: click.Context, peer_id: str, yes: bool) -> None:
    """End the pairing with PEER_ID: its next request is refused, its items leave at the next sync."""
    if not yes:
        click.confirm(f"revoke {peer_id}?", abort=True)
    p: Peer = _run(ctx, lambda s: s.fed.service.revoke(peer_id))
    click.echo(f"{p.name} is {p.status}")
