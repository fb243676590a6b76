"""The bare eventsourcing library (and a bare FastAPI endpoint) on the same store, as a yardstick.

Every figure of ``bench/registration.py`` is a ratio to one of these, measured in the same
process and run, so a loaded machine moves both sides alike.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from fastapi.testclient import TestClient


class Item(Aggregate):
    """The smallest aggregate that records something: one field, one update."""

    @event("Created")
    def __init__(self, label: str) -> None:
        self.label = label
        self.touched = 0

    @event("Touched")
    def touch(self, note: str) -> None:
        self.touched += 1


class Bare(Application[UUID]):
    name = "BareYardstick"


def bare_application(env: dict[str, str]) -> Bare:
    """The stock application on the store ``env`` describes (its own tables or file)."""
    bare_env = dict(env)
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.sqlite":
        bare_env["SQLITE_DBNAME"] = env["SQLITE_DBNAME"] + ".bare.db"
    bare_env.pop("APPLICATION_RECORDER_TOPIC", None)
    bare_env.pop("PSEUDONYM_KEY", None)
    return Bare(env=bare_env)


def rate(count: int, run: Callable[[int], Any]) -> float:
    """Operations per second of ``run(i)`` for i in range(count), in one thread."""
    started = time.perf_counter()
    for i in range(count):
        run(i)
    return count / (time.perf_counter() - started)


def save_four_rate(app: Bare, count: int) -> float:
    """Four new aggregates saved together, as a nomination saves contestant, claim and two pools."""
    return rate(count, lambda i: app.save(*(Item(label=f"{i}-{n}") for n in range(4))))


def get_and_update_rate(app: Bare, count: int) -> float:
    """Load one aggregate of a few events, record one event, save: what a decision does."""
    ids = []
    for i in range(count):
        item = Item(label=str(i))
        item.touch(note="first")
        app.save(item)
        ids.append(item.id)

    def update(i: int) -> None:
        item: Item = app.repository.get(ids[i])
        item.touch(note="again")
        app.save(item)

    return rate(count, update)


def bare_endpoint_app() -> FastAPI:
    """A FastAPI endpoint answering a small JSON body, nothing else (``uvicorn --factory`` serves it)."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    def item(item_id: uuid.UUID) -> dict[str, object]:
        return {"id": str(item_id), "rows": [{"n": n} for n in range(10)]}

    return app


def bare_endpoint_rate(count: int) -> float:
    """Requests per second of the bare endpoint, through TestClient."""
    target = f"/items/{uuid.uuid4()}"
    with TestClient(bare_endpoint_app()) as client:
        client.get(target)
        return rate(count, lambda _: client.get(target).raise_for_status())
