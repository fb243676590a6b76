"""Structured logs: one JSON object a line on stderr, configured once for every command.

Each line carries what is known of the work in progress (request id, actor, campaign, log
position), from a context set by the API per request. Nothing personal is logged: routes
are logged by their template (never a path or query with a name or search term in it), the
actor by user id, and refusals by rule, never with the values that were refused.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from domain.timeline import SHANGHAI

Context = MutableMapping[str, Any]

_context: ContextVar[Context | None] = ContextVar("zhanyou_log_context", default=None)
FIELDS = ("request_id", "actor", "campaign", "log_position")
#: Libraries that narrate routine work at INFO (every poll of the scheduler, every state
#: machine transition): only their warnings are kept.
QUIET = ("apscheduler", "transitions")


@contextmanager
def log_context(**fields: Any) -> Iterator[Context]:
    """A context whose fields go on every log line made inside it; it may be added to while open.

    The mapping itself is shared: a dependency running on another thread (with a copy of the
    context variables) adds the actor to the same mapping the request's last line reads.
    """
    context: Context = dict(fields)
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


def current_context() -> Context | None:
    return _context.get()


class _BeijingTime(JsonFormatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """An instant with its offset, in Beijing time like every other time the service shows."""
        return datetime.fromtimestamp(record.created, SHANGHAI).isoformat(timespec="milliseconds")


class _WithContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if key in FIELDS and value is not None and not hasattr(record, key):
                setattr(record, key, value)
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the root logger (uvicorn's loggers propagate to it). Idempotent."""
    root = logging.getLogger()
    if any(getattr(handler, "_zhanyou", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _BeijingTime(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    )
    handler.addFilter(_WithContext())
    handler._zhanyou = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    logging.getLogger("uvicorn.access").disabled = True  # it logs paths and queries: ours logs templates
