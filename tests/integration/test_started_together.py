"""Processes started together on an empty store (API, scheduler, worker) all come up.

Without the setup lock, PostgreSQL fails one of them ("tuple concurrently updated") in about
one run of three here: a race, so this catches a regression often, not always.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from application.bootstrap import build_service
from application.settings import Settings
from projections import open_views


def _start(settings: Settings, go: Any) -> None:
    go.wait(60)
    service = build_service(settings)
    open_views(settings).close()
    service.close()


def test_processes_starting_together_on_an_empty_store_all_come_up(settings: Settings) -> None:
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Event()
    processes = [spawn.Process(target=_start, args=(settings, go)) for _ in range(5)]
    for process in processes:
        process.start()
    go.set()  # released together, each once it has imported everything
    for process in processes:
        process.join(90)
    assert [p.exitcode for p in processes] == [0] * 5
    service = build_service(settings)
    try:
        assert service.last_notification_id() == 0
    finally:
        service.close()
