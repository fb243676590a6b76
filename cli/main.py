"""The `zhanyou` command."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from cli.demo import Demo, print_summary
from cli.import_form import import_form
from cli.startup import load_settings, open_service, require_reachable_store

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
    service = open_service(settings)
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
    service = open_service(settings)
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


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on")] = 8000,
    scheduler: Annotated[
        bool | None,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Run the phase scheduler in this process (default: on for SQLite, off for PostgreSQL)",
        ),
    ] = None,
    projections: Annotated[
        bool | None,
        typer.Option(
            "--projections/--no-projections",
            help="Keep the views up to date in this process (default: on for SQLite, off for PostgreSQL)",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API (docs at /docs) against the configured store until stopped."""
    import uvicorn

    from api.app import create_app
    from api.config import ApiSettings
    from application.settings import SettingsError

    settings = load_settings()
    try:
        api_settings = ApiSettings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    require_reachable_store(settings)
    embedded = not settings.is_postgres
    typer.echo(f"zhanyou: serving on http://{host}:{port} (store: {settings.describe_store()})", err=True)
    app_ = create_app(
        settings,
        api_settings,
        run_scheduler=embedded if scheduler is None else scheduler,
        run_projections=embedded if projections is None else projections,
    )
    uvicorn.run(app_, host=host, port=port, log_level="info")


@app.command()
def project(
    poll: Annotated[float, typer.Option(min=0.01, help="Seconds between polls of the event log")] = 0.1,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Events per view per transaction")] = 1000,
    retry: Annotated[float, typer.Option(min=0.1, help="Seconds before a stopped view is retried")] = 5.0,
) -> None:
    """Keep every view (roster, quotas, funnel, teams, audit, phases) caught up until SIGTERM/SIGINT."""
    import logging
    import signal
    import threading

    from projections import open_views
    from projections.runner import ProjectionRunner

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    service = open_service(settings)
    views = open_views(settings)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runner = ProjectionRunner(
        service, views.all, poll_seconds=poll, batch_size=batch, retry_seconds=retry, stalls=views.stalls
    )
    print(f"projections: store {settings.describe_store()}; positions {runner.positions()}", flush=True)
    try:
        with runner:
            stop.wait()
    finally:
        print(f"projections: stopped at {runner.positions()}", flush=True)
        views.close()
        service.close()


@app.command()
def rebuild(
    view: Annotated[
        str | None, typer.Argument(help="roster, quotas, funnel, teams, audit or phases; all if omitted")
    ] = None,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Events per transaction")] = 2000,
) -> None:
    """Rebuild views from the start of the log into fresh tables; switch over once caught up."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from projections import VIEW_CLASSES
    from projections.rebuild import rebuild as rebuild_view
    from projections.runner import ProjectionStalled

    names = list(VIEW_CLASSES) if view is None else [view]
    unknown = [n for n in names if n not in VIEW_CLASSES]
    if unknown:
        typer.echo(f"zhanyou: no view {unknown[0]!r}; views: {', '.join(VIEW_CLASSES)}", err=True)
        raise typer.Exit(2)
    settings = load_settings()
    service = open_service(settings)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>10,.0f} events/s"),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=Console()) as progress:
            for name in names:
                task = progress.add_task(name, total=None, rate=0.0)
                started = time.perf_counter()

                def report(
                    position: int, head: int, applied: int, task_id: TaskID = task, t0: float = started
                ) -> None:
                    rate = applied / max(time.perf_counter() - t0, 1e-9)
                    progress.update(task_id, completed=position, total=head, rate=rate)

                try:
                    result = rebuild_view(service, settings, name, batch_size=batch, on_progress=report)
                except ProjectionStalled as error:
                    progress.console.print(f"[red]{error}[/red]")
                    raise typer.Exit(1) from None
                progress.console.print(
                    f"{name}: {result.events} events in {result.seconds:.2f} s "
                    f"({result.rate:,.0f} events/s), switched over at notification {result.position}"
                )
    finally:
        service.close()
