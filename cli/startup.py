"""What every command does first: validated settings, or one line naming the bad one."""

from __future__ import annotations

import os
import sqlite3

import psycopg
import typer
from eventsourcing.domain import EventSourcingError

from application.bootstrap import build_service
from application.errors import StoreUnavailable
from application.service import CampaignService
from application.settings import Settings, SettingsError
from application.store_keys import is_plain, remember_keys, resolve_keys


def load_settings() -> Settings:
    """Validated settings with the store's keys: generated beside a new SQLite store, else required."""
    os.umask(0o077)  # every file this process creates (store, views, locks, exports) is owner-only
    try:
        settings = Settings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    try:
        resolved = resolve_keys(settings)
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    except (psycopg.Error, sqlite3.Error, OSError) as error:
        typer.echo(
            f"zhanyou: the event store ({settings.describe_store()}) is unreachable: {_one_line(error)}",
            err=True,
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
        typer.echo(f"zhanyou: the event store ({where}) is unreachable: {_one_line(error)}", err=True)
        raise typer.Exit(2) from None
    try:
        head = service.last_notification_id()
        for notification in service.recorder.select_notifications(start=head, limit=1):
            service.mapper.to_domain_event(notification)
    except StoreUnavailable as error:
        service.close()
        typer.echo(f"zhanyou: {_one_line(error.detail)}", err=True)
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


def require_reachable_store(settings: Settings) -> None:
    """Fail at start, in one line, when the event store cannot be reached or read."""
    open_service(settings).close()


def _one_line(error: object) -> str:
    return " ".join(str(error).split())
