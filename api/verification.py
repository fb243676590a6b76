"""The background verification the auditors start and watch over HTTP, one at a time per process."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from application.settings import Settings
from ledger.operations import verify
from ledger.store import VerificationRecord
from ledger.verify import Verification


class _Stopped(Exception):
    """The process is shutting down: the verification is abandoned."""


@dataclass
class VerificationStatus:
    state: str = "never run"  # "running", "done", "failed"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    done: int = 0
    total: int | None = None
    result: Verification | None = None
    error: str | None = None


class VerificationJob:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._status = VerificationStatus()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._finished = threading.Event()

    def status(self) -> VerificationStatus:
        with self._lock:
            return VerificationStatus(**vars(self._status))

    def start(self) -> bool:
        """Start a verification unless one is running; whether this call started it."""
        with self._lock:
            if self._status.state == "running":
                return False
            self._status = VerificationStatus(state="running", started_at=datetime.now(UTC))
            self._finished.clear()
            self._thread = threading.Thread(target=self._run, name="verification", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float) -> bool:
        return self._finished.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _progress(self, done: int, total: int) -> None:
        if self._stop.is_set():
            raise _Stopped
        with self._lock:
            self._status.done, self._status.total = done, total

    def _run(self) -> None:
        try:
            result = verify(self.settings, progress=self._progress)
        except _Stopped:
            return
        except Exception as error:  # reported to the auditor, never a crashed thread
            with self._lock:
                self._status.state, self._status.error = "failed", f"{type(error).__name__}: {error}"
                self._status.finished_at = datetime.now(UTC)
        else:
            with self._lock:
                self._status.state, self._status.result = "done", result
                self._status.done = result.count
                self._status.finished_at = datetime.now(UTC)
        finally:
            self._finished.set()


def metric_lines(record: VerificationRecord | None) -> list[str]:
    """The last verification's outcome and time, in the Prometheus text format."""
    if record is None:
        return []
    finished = datetime.fromisoformat(record.finished_at).timestamp()
    return [
        "# HELP zhanyou_chain_verification_ok 1 when the last verification found the chain intact.",
        "# TYPE zhanyou_chain_verification_ok gauge",
        f"zhanyou_chain_verification_ok {int(record.ok)}",
        "# HELP zhanyou_chain_verification_timestamp_seconds When the last verification finished.",
        "# TYPE zhanyou_chain_verification_timestamp_seconds gauge",
        f"zhanyou_chain_verification_timestamp_seconds {finished:.3f}",
        "# HELP zhanyou_chain_verification_events Events the last verification found intact.",
        "# TYPE zhanyou_chain_verification_events gauge",
        f"zhanyou_chain_verification_events {record.count}",
        "# HELP zhanyou_chain_verification_duration_seconds How long the last verification took.",
        "# TYPE zhanyou_chain_verification_duration_seconds gauge",
        f"zhanyou_chain_verification_duration_seconds {record.seconds:.3f}",
    ]


def as_json(status: VerificationStatus) -> dict[str, Any]:
    result = status.result
    broken = None if result is None or result.broken is None else result.broken
    return {
        "state": status.state,
        "started_at": status.started_at,
        "finished_at": status.finished_at,
        "done": status.done,
        "total": status.total,
        "ok": None if result is None else result.ok,
        "count": None if result is None else result.count,
        "head": None if result is None else result.head.hex(),
        "checkpoints": None if result is None else result.checkpoints,
        "broken": None
        if broken is None
        else {
            "kind": broken.kind.value,
            "position": broken.position,
            "notification_id": broken.notification_id,
            "detail": broken.detail,
        },
        "error": status.error,
    }
