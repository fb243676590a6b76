"""What every command does first: validated settings and a working store, or one line naming the cause."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import typer
from eventsourcing.domain import EventSourcingError

from application.bootstrap import build_service
from application.errors import StoreUnavailable
from application.service import CampaignService
from application.settings import Settings, SettingsError
from application.store_keys import is_plain, remember_keys, resolve_keys
from node import Clock, Node, Roles, Tuning, build_node, utc_now
from projections.sealing import KeyMismatch


def require_signing_key(settings: Settings) -> None:
    """The scheduler signs a checkpoint at every boundary: without a key it does not start."""
    from ledger.keys import SigningKeyMissing, signing_key

    try:
        signing_key(settings)
    except SigningKeyMissing as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None


def load_settings() -> Settings:
    """Validated settings with the store's keys: generated beside a new SQLite store, else required."""
    return with_keys(load_plain_settings())


def load_plain_settings() -> Settings:
    """The settings as configured, keys not yet resolved."""
    os.umask(0o077)  # every file this process creates (store, views, locks, exports) is owner-only
    try:
        return Settings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None


def with_keys(settings: Settings) -> Settings:
    """``settings`` with the store's keys resolved, or one line naming what is wrong and exit 2."""
    try:
        resolved = resolve_keys(settings)
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    except (psycopg.Error, sqlite3.Error, OSError) as error:
        from projections.store import views_path

        filename = getattr(error, "filename", None)
        if not settings.is_postgres and filename and Path(filename) == views_path(settings):
            typer.echo(f"zhanyou: {_views_failure(settings, error)}", err=True)
        else:
            typer.echo(
                f"zhanyou: the event store ({settings.describe_store()}) {_store_failure(error)}", err=True
            )
        raise typer.Exit(2) from None
    if resolved.generated is not None:
        typer.echo(
            f"zhanyou: made a cipher key and an id secret for this new store in {resolved.generated} "
            "(owner-only); keep a copy elsewhere: without it the data cannot be read",
            err=True,
        )
    return resolved.settings


def open_service(settings: Settings) -> CampaignService:
    """The service, once the store answers and its newest event reads back; else one line and exit 2.

    Reading the newest event back catches a cipher key that is missing, or not the one the
    events were written with, before a worker starts (and, for the views, before it would
    build them again under the wrong setting).
    """
    where = settings.describe_store()
    try:
        service = build_service(settings)
    except (EventSourcingError, psycopg.Error, sqlite3.Error, OSError) as error:
        typer.echo(f"zhanyou: the event store ({where}) {_store_failure(error)}", err=True)
        raise typer.Exit(2) from None
    try:
        head = service.last_notification_id()
        for notification in service.recorder.select_notifications(start=head, limit=1):
            service.mapper.to_domain_event(notification)
    except StoreUnavailable as error:
        service.close()
        typer.echo(f"zhanyou: {_one_line(str(error))}", err=True)  # the operator sees the cause
        raise typer.Exit(2) from None
    except Exception as error:  # any failure to decode: the key does not match the events
        service.close()
        typer.echo(
            f"zhanyou: the events in {where} cannot be read with this ZHANYOU_CIPHER_KEY "
            f"(is it set as when they were written?): {type(error).__name__}: {_one_line(error)}",
            err=True,
        )
        raise typer.Exit(2) from None
    remember_keys(settings)
    if is_plain(settings):
        typer.echo(
            "zhanyou: warning: this store was made without keys (ids derive from plain ID numbers, "
            "events are not encrypted); it opens as it was. README.md: 'Protecting a store made "
            "without keys'",
            err=True,
        )
    return service


def open_node(
    settings: Settings,
    roles: Roles,
    *,
    clock: Clock = utc_now,
    tuning: Tuning | None = None,
    say: Callable[[str], None] | None = None,
) -> Node:
    """The composition root's process, once its store and its views open; else one line and exit 2."""
    open_service(settings).close()  # the store answers and its events read with this key
    try:
        return build_node(settings, roles, clock=clock, tuning=tuning, say=say)
    except KeyMismatch as error:
        typer.echo(f"zhanyou: {_one_line(error)} (ZHANYOU_CIPHER_KEY)", err=True)
    except (EventSourcingError, psycopg.Error, sqlite3.Error, OSError) as error:
        typer.echo(f"zhanyou: {_views_failure(settings, error)}", err=True)
    raise typer.Exit(2) from None


def _store_failure(error: BaseException) -> str:
    """What went wrong, and the setting to look at."""
    text = _one_line(error)
    lowered = text.lower()
    if "schema" in lowered and "does not exist" in lowered:
        return f"has no such schema (ZHANYOU_DATABASE_SCHEMA): {text}"
    if "permission denied" in lowered or "must be owner" in lowered or "readonly" in lowered:
        return f"refuses this user the tables it needs (the user of ZHANYOU_DATABASE_URL): {text}"
    if isinstance(error, sqlite3.Error | OSError) or "unable to open" in lowered:
        return f"cannot be opened for writing (ZHANYOU_DATABASE_URL: the file and its directory): {text}"
    return f"is unreachable (ZHANYOU_DATABASE_URL): {text}"


def _views_failure(settings: Settings, error: BaseException) -> str:
    if settings.is_postgres:
        return f"the views in {settings.describe_store()} {_store_failure(error)}"
    from projections.store import views_path

    where = views_path(settings).resolve()
    return (
        f"the views file {where} cannot be opened for writing (beside ZHANYOU_DATABASE_URL; "
        f"check its directory's permissions and free space): {type(error).__name__}: {_one_line(error)}"
    )


def demo_settings(configured: Settings) -> Settings:
    """The demo's own store: ``demo.db`` beside the configured SQLite file (or in ``data/``)."""
    folder = configured.sqlite_path.parent if not configured.is_postgres else Path("data")
    return configured.model_copy(
        update={"database_url": f"sqlite:///{folder / 'demo.db'}", "database_schema": None}
    )


def refuse_if_served(settings: Settings) -> None:
    """One line and exit 2 when a service holds a role on this store: the demo would mix into live data."""
    from scheduler.leader import PROJECTIONS, SCHEDULER, identity, lock_for

    for role in (SCHEDULER, PROJECTIONS):
        probe = lock_for(settings, identity(), role)
        try:
            holder = probe.holder()
        finally:
            probe.release()
        if holder:
            typer.echo(
                f"zhanyou: the service {holder} is running on {settings.describe_store()} (its {role}); "
                "the demo refuses to share a live store: stop it, or run the demo without --configured-store",
                err=True,
            )
            raise typer.Exit(2)


def require_reachable_store(settings: Settings) -> None:
    """Fail at start, in one line, when the event store cannot be reached or read."""
    open_service(settings).close()


def _one_line(error: object) -> str:
    return " ".join(str(error).split())
