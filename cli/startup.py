"""What every command does first: validated settings, or one line naming the bad one."""

from __future__ import annotations

import sqlite3

import psycopg
import typer
from eventsourcing.domain import EventSourcingError

from application.bootstrap import build_service
from application.errors import StoreUnavailable
from application.settings import Settings, SettingsError


def load_settings() -> Settings:
    try:
        return Settings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None


def require_reachable_store(settings: Settings) -> None:
    """Fail at start, in one line, when the event store cannot be reached."""
    try:
        service = build_service(settings)
    except (EventSourcingError, psycopg.Error, sqlite3.Error, OSError) as error:
        typer.echo(
            f"zhanyou: the event store ({settings.describe_store()}) is unreachable: {error}", err=True
        )
        raise typer.Exit(2) from None
    try:
        service.last_notification_id()
    except StoreUnavailable as error:
        typer.echo(f"zhanyou: {error.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        service.close()
