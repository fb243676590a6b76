"""What every command does first: validated settings, or one line naming the bad one."""

from __future__ import annotations

import typer

from application.settings import Settings, SettingsError


def load_settings() -> Settings:
    try:
        return Settings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
