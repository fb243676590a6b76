"""`zhanyou seal`, `zhanyou verify` and `zhanyou checkpoint`: the provable history of the store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from application.settings import Settings, SettingsError
from cli.startup import load_settings, open_service
from ledger.checkpoints import CheckpointUnreadable, SignedCheckpoint
from ledger.keys import SigningKeyMissing
from ledger.operations import NothingToCheckpoint, seal, take_checkpoint, verify
from ledger.signers import signer_name
from ledger.verify import Verification

LARGE_LOG = 50_000  # below this a verification is over before a bar would help


def seal_command() -> None:
    """Chain a store whose events were stored before the chain existed, from its first event."""
    settings = load_settings()
    open_service(settings).close()  # creates the ledger tables on a store that predates them
    sealed = seal(settings, by=signer_name("seal"), at=datetime.now(UTC))
    if sealed is None:
        typer.echo("zhanyou: the store is chained already; nothing sealed", err=True)
        raise typer.Exit(1)
    count, head = sealed
    typer.echo(f"sealed {count} events; head {head.hex()}")
    _checkpoint_quietly("sealed")


def checkpoint_command(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Also write the checkpoint here")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why this checkpoint is taken")] = "on demand",
) -> None:
    """Sign the chain's head now (count, head, instant, signer) and keep the checkpoint."""
    settings = load_settings()
    open_service(settings).close()
    try:
        signed = take_checkpoint(settings, reason=reason, signer=signer_name("cli"), at=datetime.now(UTC))
    except (SigningKeyMissing, NothingToCheckpoint) as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    document = json.dumps(signed.as_dict(), ensure_ascii=False, indent=2)
    if output is not None:
        output.write_text(document + "\n", encoding="utf-8")
    typer.echo(document)


def verify_command(
    against: Annotated[
        list[Path] | None,
        typer.Option("--against", help="A checkpoint file kept elsewhere: prove the log only grew since"),
    ] = None,
    public_key: Annotated[
        str | None, typer.Option(help="The store's public key (base64); default: from the signing key")
    ] = None,
) -> None:
    """Recompute the chain from the tables; OK with count and head, or the first break. Exit 1 on a break."""
    settings = _store_only()
    kept: list[SignedCheckpoint] = []
    for path in against or []:
        try:
            kept.append(SignedCheckpoint.parse(path.read_text(encoding="utf-8")))
        except (OSError, CheckpointUnreadable) as error:
            typer.echo(f"zhanyou: {path}: {error}", err=True)
            raise typer.Exit(2) from None
    console = Console(soft_wrap=True)
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    bar = Progress(*columns, console=console, transient=True)
    task = bar.add_task("chain", total=None)

    def progress(done: int, total: int) -> None:
        if total >= LARGE_LOG and not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        result = verify(settings, key=public_key, against=kept, progress=progress)
    except (sqlite3.Error, psycopg.Error, OSError) as error:
        typer.echo(f"zhanyou: the store ({settings.describe_store()}) cannot be read: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        if bar.live.is_started:
            bar.stop()
    print_verification(result, console, bool(kept))
    if not result.ok:
        raise typer.Exit(1)


def _store_only() -> Settings:
    """Where the store is, without its cipher key: verifying reads stored bytes, never decrypts them."""
    try:
        return Settings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None


def print_verification(result: Verification, console: Console, against: bool) -> None:
    for record in result.seals:
        console.print(
            f"sealed {record.sealed_at} by {record.by}: the first {record.position} events were stored "
            "before the chain and are provable from the seal on"
        )
    if result.broken is None:
        console.print(
            f"[green]OK[/green] {result.count} events, head {result.head.hex()} "
            f"(notification {result.notification_id}); {result.checkpoints} signed checkpoint(s) matched"
            + (", including the one given" if against else "")
        )
        return
    broken = result.broken
    where = f"chain position {broken.position}" + (
        f", notification {broken.notification_id}" if broken.notification_id is not None else ""
    )
    console.print(f"[red]BROKEN[/red] at {where}: [bold]{broken.kind.value}[/bold]")
    console.print(f"  {broken.detail}")
    console.print(f"  intact before it: {result.count} events, head {result.head.hex()}")


def _checkpoint_quietly(reason: str) -> None:
    settings = load_settings()
    try:
        signed = take_checkpoint(settings, reason=reason, signer=signer_name("seal"), at=datetime.now(UTC))
    except SigningKeyMissing as error:
        typer.echo(f"zhanyou: no checkpoint signed: {error}", err=True)
        return
    typer.echo(f"checkpoint signed: count {signed.checkpoint.count}, head {signed.checkpoint.head}")
