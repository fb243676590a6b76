"""The `zhanyou` command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from application.bootstrap import build_service
from cli.demo import Demo, print_summary
from cli.import_form import import_form
from cli.startup import load_settings

app = typer.Typer(help="The Zhanyou Cup (战友杯) campaign service.", no_args_is_help=True)


app.command("import")(import_form)


@app.callback()
def main() -> None:
    """Settings come from ZHANYOU_* environment variables; see README.md."""


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


@app.command()
def scheduler(
    poll: Annotated[float, typer.Option(min=0.2, help="Seconds between polls of the event log")] = 2.0,
) -> None:
    """Open and close phases on the campaign dates; one instance is active, others stand by."""
    import signal
    import threading
    from datetime import UTC, datetime

    from scheduler.leader import Elector, identity, lock_for
    from scheduler.plan import RecordedEdge
    from scheduler.runner import BoundaryRunner

    settings = load_settings()
    service = build_service(settings)
    me = identity()

    def say(line: str) -> None:
        print(line, flush=True)

    def recorded(edge: RecordedEdge) -> None:
        scheduled = edge.scheduled.isoformat() if edge.scheduled else "-"
        say(
            f"recorded campaign={edge.campaign_id} code={edge.code.value} side={edge.side} "
            f"scheduled={scheduled} actual={edge.actual.isoformat()} by={me}"
        )

    def make_runner() -> BoundaryRunner:
        return BoundaryRunner(service, lambda: datetime.now(UTC), poll_seconds=poll, on_recorded=recorded)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    say(f"scheduler {me}: store {settings.describe_store()}")
    try:
        Elector(lock_for(settings, me), make_runner, me=me, say=say).run(stop)
    finally:
        service.close()
        say(f"scheduler {me}: stopped")
