"""The `zhanyou` command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from application.bootstrap import build_service
from application.settings import Settings, SettingsError
from cli.demo import Demo, print_summary

app = typer.Typer(help="The Zhanyou Cup (战友杯) campaign service.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Settings come from ZHANYOU_* environment variables; see README.md."""


def load_settings() -> Settings:
    try:
        return Settings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None


@app.command()
def demo(
    name: Annotated[str, typer.Option(help="Campaign name; a second run with one name records nothing")] = (
        "战友杯 2021 demo"
    ),
    contestants: Annotated[int, typer.Option(min=17, max=5000, help="People to nominate")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the made-up people")] = 2021,
) -> None:
    """Run the 2021 notice end to end on a simulated clock against the configured store."""
    settings = load_settings()
    console = Console()
    service = build_service(settings)
    try:
        run = Demo(service, name, contestants, seed, console)
        fresh = run.run()
        print_summary(run, fresh, settings.describe_store(), console)
    finally:
        service.close()
