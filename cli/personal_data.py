"""`zhanyou erase`, `zhanyou retention` and `zhanyou rotate-key`: the lifecycle of personal data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from application.errors import ApplicationError
from cli.startup import load_settings, open_service
from domain.decision import DecisionContext
from domain.errors import DomainError
from domain.timeline import shanghai_text
from domain.users import user_id
from domain.values import Actor, Role

#: Whoever runs a command holds the store's keys: reading the dry run is an organiser's; nothing is recorded.
_OPERATOR = Actor(user="zhanyou-cli", role=Role.ADMIN)


def erase_command(
    contestant: Annotated[UUID, typer.Argument(help="The contestant's id")],
    reason: Annotated[str, typer.Option(help="Why (required): it goes on the audit trail")],
    user: Annotated[str, typer.Option(help="A stored organiser (admin); the erasure is recorded as theirs")],
    evidence: Annotated[str | None, typer.Option(help="What the erasure rests on, e.g. the request")] = None,
) -> None:
    """Erase one person's data (PIPL art. 47): their key is destroyed, the erasure goes on record.

    Statuses, city, group and scores stay. Exits 0 once erased, 1 when nothing was erased
    (unknown contestant or user, a user who may not erase, no reason, erased before).
    """
    console = Console(stderr=True)
    if not reason.strip():
        console.print("zhanyou: nothing erased: a reason is required (--reason)")
        raise typer.Exit(1)
    settings = load_settings()
    service = open_service(settings)
    try:
        stored = service.get_user(user_id(user.strip()))
        if stored is None or stored.disabled:
            console.print(f"zhanyou: nothing erased: no enabled user is named {user.strip()!r}")
            raise typer.Exit(1)
        context = DecisionContext(
            actor=stored.as_actor(), at=datetime.now(UTC), reason=reason, evidence=evidence
        )
        version = service.erase(contestant, context)
        erased = service.get_contestant(contestant, version=version)
    except (DomainError, ApplicationError) as refusal:
        console.print(f"zhanyou: nothing erased: {refusal.detail}")
        raise typer.Exit(1) from None
    finally:
        service.close()
    typer.echo(
        f"erased contestant {contestant} ({erased.city}, {erased.group.value}, {erased.status.value}): "
        f"the personal data read as 已删除; the decision is on the audit trail as {stored.username}'s"
    )


def retention_command(
    campaign: Annotated[UUID, typer.Argument(help="The campaign's id")],
) -> None:
    """Dry run of the campaign's retention policy: who would be erased, and when; erases nothing."""
    from api.exports import masked_name

    settings = load_settings()
    service = open_service(settings)
    console = Console()
    try:
        found = service.get_campaign(campaign)
        plan = service.retention_plan(campaign, _OPERATOR)
    except (DomainError, ApplicationError) as refusal:
        typer.echo(f"zhanyou: {refusal.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        service.close()
    if plan.policy is None:
        typer.echo(f"{found.name}: no retention policy; personal data are kept until erased by hand")
        return
    if plan.carried_out_at is not None:
        typer.echo(f"{found.name}: carried out at {shanghai_text(plan.carried_out_at)}; nobody is left")
        return
    due = shanghai_text(plan.due) if plan.due else "once the ceremony has an end date"
    table = Table(title=f"{found.name}: would be erased at {due}")
    table.add_column("contestant", no_wrap=True)
    for column in ("city", "group", "channel", "name", "nominated"):
        table.add_column(column)
    for person in plan.people:
        table.add_row(
            str(person.contestant_id),
            person.city,
            person.group,
            person.channel,
            masked_name(person.name),
            shanghai_text(person.nominated_at),
        )
    console.print(table)
    console.print(f"{len(plan.people)} contestants; rule: {plan.policy.describe(plan.rule_version)}")


def rotate_key_command(
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="Data keys re-wrapped per transaction")
    ] = 500,
) -> None:
    """Re-wrap every data key under ZHANYOU_MASTER_KEY while the service keeps running.

    Every process holds the new key as ZHANYOU_MASTER_KEY and the old one as
    ZHANYOU_PREVIOUS_MASTER_KEY (the cipher key, when no master key was set before, is always
    held). Interrupted, it goes on from where it stopped when run again. Exits 0 when every
    key is under the new master key, 3 when some were made meanwhile under another.
    """
    from application.key_rotation import RotationRefused, rotate_master_key

    settings = load_settings()
    if settings.master_key is None:
        typer.echo(
            "zhanyou: ZHANYOU_MASTER_KEY: set it to the new master key (base64 AES, 32 bytes), and "
            "ZHANYOU_PREVIOUS_MASTER_KEY to the old one unless that was the cipher key",
            err=True,
        )
        raise typer.Exit(2)
    service = open_service(settings)
    columns = (
        TextColumn("re-wrapping data keys"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=Console(stderr=True)) as progress:
            task = progress.add_task("rotate", total=None)
            rotation = rotate_master_key(
                service.person_keys,
                batch=batch,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except RotationRefused as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    finally:
        service.close()
    if settings.is_postgres:
        _reclaim(settings.database_url, settings.database_schema or "public")
    if rotation.left:
        typer.echo(
            f"zhanyou: re-wrapped {rotation.rewrapped} data keys; {rotation.left} were made meanwhile under "
            "another master key (a process not yet given ZHANYOU_MASTER_KEY): run it again",
            err=True,
        )
        raise typer.Exit(3)
    typer.echo(
        f"zhanyou: re-wrapped {rotation.rewrapped} data keys; every data key is under the master key "
        f"{rotation.target[:8]} now, ZHANYOU_PREVIOUS_MASTER_KEY can be removed"
    )


def _reclaim(url: str, schema: str) -> None:
    """Old wrappings are dead row versions on PostgreSQL: vacuumed now rather than some time later."""
    import psycopg
    from psycopg import sql

    from application.person_keys import KEYS_TABLE

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        connection.execute(sql.SQL("VACUUM {}").format(sql.Identifier(schema, KEYS_TABLE)))
