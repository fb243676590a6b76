"""Bringing a contestant to the finals team over HTTP."""

from __future__ import annotations

from tests.api.helpers import COMPETING, PICKING, REVIEWING, SCORES, TRAINED, TRAINING, Api


def finalist(api: Api, seq: int, city: str, role: str) -> str:
    contestant = api.recommend(seq, city)
    for action, at, body in (
        ("verify", REVIEWING, {}),
        ("training-account", TRAINING, {"training_account": f"t-{seq}"}),
        ("trained", TRAINED, {}),
        ("results", COMPETING, {"scores": SCORES}),
        ("advance", PICKING, {"role": role}),
    ):
        api.step(contestant, action, at, body)
    return contestant
