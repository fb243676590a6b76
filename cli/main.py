"""The `zhanyou` command."""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

from application.logs import configure_logging
from application.settings import Settings, SettingsError
from cli.audit import audit
from cli.demo import Demo, print_summary
from cli.import_form import import_form
from cli.ledger import checkpoint_command, seal_command, verify_command
from cli.personal_data import erase_command, retention_command, rotate_key_command
from cli.startup import (
    demo_settings,
    load_plain_settings,
    load_settings,
    open_node,
    open_service,
    refuse_if_served,
    require_signing_key,
    with_keys,
)

app = typer.Typer(help="The Zhanyou Cup (战友杯) campaign service.", no_args_is_help=True)


app.command("import")(import_form)
app.command("seal")(seal_command)
app.command("verify")(verify_command)
app.command("checkpoint")(checkpoint_command)
app.command("erase")(erase_command)
app.command("retention")(retention_command)
app.command("rotate-key")(rotate_key_command)
app.add_typer(audit, name="audit")


@app.callback()
def main() -> None:
    """Settings come from ZHANYOU_* environment variables; see README.md."""
    configure_logging()


@app.command()
def demo(
    name: Annotated[str, typer.Option(help="Campaign name; a second run with one name records nothing")] = (
        "战友杯 2021 demo"
    ),
    contestants: Annotated[int, typer.Option(min=17, max=5000, help="People to nominate")] = 300,
    seed: Annotated[int, typer.Option(help="Seed of the made-up people")] = 2021,
    configured_store: Annotated[
        bool,
        typer.Option(
            "--configured-store",
            help="Run in the configured store (ZHANYOU_DATABASE_URL) instead of a demo store of its own; "
            "refused while a service runs on it",
        ),
    ] = False,
) -> None:
    """Run the 2021 notice end to end on a simulated clock, in a store of its own (data/demo.db)."""
    from node import Roles

    configured = load_plain_settings()  # the configured store is not opened unless asked for
    if configured_store:
        refuse_if_served(configured)
    settings = with_keys(configured if configured_store else demo_settings(configured))
    console = Console()
    with open_node(settings, Roles(scheduler=False, projections=True)) as node:
        run = Demo(node.service, name, contestants, seed, console)
        outcome = run.run()
        runner = node.projection_runner
        if runner is not None:  # the views of the demo store are current when it ends
            runner.wait(node.service.last_notification_id(), timeout=120)
        print_summary(run, outcome, settings.describe_store(), console)


@app.command()
def migrate(
    to: Annotated[str, typer.Option(help="the new, empty store: sqlite:///PATH or postgresql://...")],
    to_schema: Annotated[str | None, typer.Option(help="PostgreSQL schema of the new store")] = None,
) -> None:
    """Copy this store, made without keys, into a new protected one (keyed ids, encrypted events).

    The keys of the new store are ZHANYOU_CIPHER_KEY and ZHANYOU_ID_SECRET (made beside a new
    SQLite store when unset); the old store is read without keys and left as it was.
    """
    from application.migration import MigrationRefused, copy_store
    from application.store_keys import is_plain, remember_keys

    configured = load_plain_settings()
    source = with_keys(configured.model_copy(update={"cipher_key": None, "id_secret": None}))
    if not is_plain(source):
        typer.echo("zhanyou: this store already has keys; there is nothing to migrate", err=True)
        raise typer.Exit(2)
    try:
        target_settings = Settings.load(
            database_url=to,
            database_schema=to_schema,
            pool_size=configured.pool_size,
            cipher_key=configured.cipher_key,
            id_secret=configured.id_secret,
            compress=configured.compress,
        )
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}".replace("ZHANYOU_DATABASE_URL", "--to"), err=True)
        raise typer.Exit(2) from None
    target_settings = with_keys(target_settings)
    old, new = open_service(source), open_service(target_settings)
    try:
        copied = copy_store(old, new, on_batch=lambda n: typer.echo(f"copied {n} events", err=True))
    except MigrationRefused as error:
        typer.echo(f"zhanyou: {error.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        old.close()
        new.close()
    remember_keys(target_settings)
    typer.echo(
        f"zhanyou: copied {copied.events} events ({copied.contestants} contestants, "
        f"{copied.claims} accounts) into {target_settings.describe_store()}; "
        "point ZHANYOU_DATABASE_URL at it, then delete the old store"
    )


@app.command()
def scheduler(
    poll: Annotated[float, typer.Option(min=0.2, help="Seconds between polls of the event log")] = 2.0,
) -> None:
    """Open and close phases on the campaign dates; one instance is active, others stand by."""
    from node import Roles, Tuning
    from scheduler.plan import RecordedEdge

    settings = load_settings()
    require_signing_key(settings)  # every boundary is signed: no key, no scheduler
    node = open_node(
        settings, Roles(scheduler=True, projections=False), tuning=Tuning(scheduler_poll=poll), say=_say
    )

    def recorded(edge: RecordedEdge) -> None:
        scheduled = edge.scheduled.isoformat() if edge.scheduled else "-"
        _say(
            f"recorded campaign={edge.campaign_id} code={edge.code.value} side={edge.side} "
            f"scheduled={scheduled} actual={edge.actual.isoformat()} by={node.me}",
            campaign=str(edge.campaign_id),
        )

    node.on_recorded = recorded
    _say(f"scheduler {node.me}: store {settings.describe_store()}")
    with node:
        _until_signalled()
    _say(f"scheduler {node.me}: stopped")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on")] = 8000,
    scheduler: Annotated[
        bool,
        typer.Option(
            "--scheduler/--no-scheduler",
            help="Stand for the phase scheduler (one process of the store is active, others stand by)",
        ),
    ] = True,
    projections: Annotated[
        bool,
        typer.Option(
            "--projections/--no-projections",
            help="Stand for keeping the views up to date (one process of the store is active)",
        ),
    ] = True,
) -> None:
    """Serve the HTTP API (docs at /docs) with the scheduler and the views, until stopped."""
    import uvicorn

    from api.app import create_app
    from api.config import ApiSettings
    from node import Roles

    try:
        api_settings = ApiSettings.load()
    except SettingsError as error:
        typer.echo(f"zhanyou: {error}", err=True)
        raise typer.Exit(2) from None
    settings = load_settings()
    if scheduler:
        require_signing_key(settings)  # the scheduler signs a checkpoint at every boundary
    node = open_node(settings, Roles(scheduler=scheduler, projections=projections), say=_say)
    typer.echo(f"zhanyou: serving on http://{host}:{port} (store: {settings.describe_store()})", err=True)
    app_ = create_app(settings, api_settings, node=node)
    trusted = api_settings.trusted_proxy_list
    # Our JSON logs (configured in ``main``), and our access line instead of uvicorn's; uvicorn
    # believes X-Forwarded-For from 127.0.0.1 unless told otherwise: only the configured proxies.
    uvicorn.run(
        app_,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
    )


@app.command()
def project(
    poll: Annotated[float, typer.Option(min=0.01, help="Seconds between polls of the event log")] = 0.1,
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Events per view per transaction")] = 1000,
    retry: Annotated[float, typer.Option(min=0.1, help="Seconds before a stopped view is retried")] = 5.0,
) -> None:
    """Keep every view (roster, quotas, funnel, teams, audit, phases) caught up until SIGTERM/SIGINT.

    One worker per store is active; a second one stands by and takes over when it dies.
    """
    from node import Roles, Tuning

    settings = load_settings()
    tuning = Tuning(projection_poll=poll, projection_batch=batch, projection_retry=retry)
    node = open_node(settings, Roles(scheduler=False, projections=True), tuning=tuning, say=_say)
    _say(f"projections {node.me}: store {settings.describe_store()}")
    with node:
        _until_signalled()
        runner = node.projection_runner
        _say(f"projections: stopped at {runner.positions() if runner else 'standby'} ({node.me})")


def _say(line: str, **fields: object) -> None:
    """A line of a long-running command: a JSON log line like every other."""
    logging.getLogger("zhanyou").info(line, extra=fields)


def _until_signalled() -> None:
    """Block until SIGTERM or SIGINT."""
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


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
    from projections.base import ViewBuilding
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
                except (ProjectionStalled, ViewBuilding) as error:
                    progress.console.print(f"[red]{error}[/red]")
                    raise typer.Exit(1) from None
                progress.console.print(
                    f"{name}: {result.events} events in {result.seconds:.2f} s "
                    f"({result.rate:,.0f} events/s), switched over at notification {result.position}"
                )
    finally:
        service.close()
