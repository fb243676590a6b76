"""Shared pieces of the scheduler tests: a settable clock, stores, short timelines."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from application.bootstrap import build_service
from application.service import CampaignService
from application.settings import Settings
from domain.timeline import PhaseCode, Timeline, Window


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sqlite_settings(tmp_path: Path, name: str = "events.db") -> Settings:
    return Settings.load(database_url=f"sqlite:///{tmp_path / name}", cipher_key=None, compress=False)


def sqlite_service(tmp_path: Path) -> CampaignService:
    return build_service(sqlite_settings(tmp_path))


def timeline(**windows: tuple[datetime | None, datetime | None]) -> Timeline:
    """Every phase unannounced except those given, e.g. registration=(opens, closes)."""
    given = {PhaseCode(code): Window(*edges) for code, edges in windows.items()}
    return Timeline({code: given.get(code, Window(None, None)) for code in PhaseCode})


def soon(seconds: float) -> datetime:
    """Real time plus ``seconds``."""
    return datetime.now(UTC) + timedelta(seconds=seconds)


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, step: float = 0.05) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
