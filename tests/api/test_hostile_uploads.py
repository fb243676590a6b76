"""Hostile files sent to every upload: each refused whole with a clear 4xx naming the file and the rule.

The 附件2 form, the score sheet and the training-account sheet are read by one reader
(``application/form_files.py``), so every bomb of ``bench/bombs.py`` is sent to each.
"""

from __future__ import annotations

from functools import cache

import pytest

from application.form_files import MAX_ELEMENTS, MAX_UNPACKED_BYTES
from bench.bombs import BOMBS, ENDPOINTS
from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api

#: bomb -> (status, rule, words of the refusal's detail that name the cap or the damage)
REFUSALS: dict[str, tuple[int, str, str]] = {
    # refused on the sizes the zip declares, before anything is inflated
    "zip": (413, "form_too_large", f"may unpack to at most {MAX_UNPACKED_BYTES}"),
    "shared-strings": (413, "form_too_large", f"may unpack to at most {MAX_UNPACKED_BYTES}"),
    # under the unpacked cap, but more elements than a form has: counted while inflated, never parsed
    "cells": (413, "form_too_large", f"may hold at most {MAX_ELEMENTS}"),
    # inflated only up to the size they declare, then cut off
    "zip-lying": (422, "form_unreadable", "does not unpack to the 1048576 bytes it declares"),
    "shared-strings-lying": (422, "form_unreadable", "does not unpack to the 1048576 bytes it declares"),
    "truncated-workbook": (422, "form_unreadable", "not an .xlsx workbook"),
    "truncated-sheet": (422, "form_unreadable", "sheet cannot be read (ParseError)"),
    "no-sheets": (422, "form_unreadable", "the workbook has no sheet"),
    "entities": (422, "form_unreadable", "declares a DTD"),
    "external-entity": (422, "form_unreadable", "declares a DTD"),
    "encrypted": (422, "form_unreadable", "is encrypted"),
    "many-sheets": (413, "form_too_large", "one file holds at most 20000"),
    "commas": (413, "form_too_large", "longer than 131072 characters"),
    "long-field": (422, "form_unreadable", "field larger than field limit (131072)"),
}


@cache
def _bomb(name: str) -> tuple[str, bytes]:
    build, filename = BOMBS[name]
    return filename, build()


def _recorded(api: Api) -> int:
    position: int = api.client.get("/readyz").json()["last_notification_id"]
    return position


def _upload(api: Api, endpoint: str, bomb: str) -> tuple[int, dict[str, object]]:
    filename, content = _bomb(bomb)
    api.clock.now = RECOMMENDING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/{endpoint}",
        files={"file": (filename, content)},
        data=ENDPOINTS[endpoint],
        headers=ADMIN_HEADERS,
    )
    body: dict[str, object] = answer.json()
    return answer.status_code, body


def test_every_bomb_has_its_expected_refusal() -> None:
    assert set(REFUSALS) == set(BOMBS) - {"dimension"}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("bomb", sorted(REFUSALS))
def test_a_bomb_is_refused_whole_naming_the_file_and_the_rule(api: Api, endpoint: str, bomb: str) -> None:
    before = _recorded(api)

    status, problem = _upload(api, endpoint, bomb)

    expected_status, expected_rule, words = REFUSALS[bomb]
    assert (status, problem["rule"]) == (expected_status, expected_rule), problem
    assert words in str(problem["detail"])
    assert problem["errors"] == [{"field": "file", "detail": problem["detail"]}]
    assert _recorded(api) == before


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_lying_dimension_is_read_as_the_rows_the_sheet_has(api: Api, endpoint: str) -> None:
    before = _recorded(api)

    status, answer = _upload(api, endpoint, "dimension")

    if endpoint == "imports":  # the bomb is a real form with one person
        assert status == 200, answer
        assert sum(answer["counts"].values()) == 1  # type: ignore[attr-defined]
        return
    assert (status, answer["rule"]) == (422, "form_unreadable")  # a form is not a score or account sheet
    assert "no sheet has a header row" in str(answer["detail"])
    assert _recorded(api) == before
