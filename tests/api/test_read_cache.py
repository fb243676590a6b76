"""Roster and quotas answers kept until their view moves: the same bytes, never stale, never crossed."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx

from api.readcache import ReadCache
from tests.api.helpers import ADMIN_HEADERS, OTHER_CITY, OWN_CITY, RECOMMENDING, REVIEWING, Api, form

ERASED = "已删除"


def _cache(api: Api) -> ReadCache:
    cache: ReadCache = api.client.app.state.read_cache  # type: ignore[attr-defined]
    return cache


def _get(api: Api, path: str, who: str = "admin", **params: Any) -> httpx.Response:
    headers = ADMIN_HEADERS if who == "admin" else api.as_(who)
    answer: httpx.Response = api.client.get(
        f"/api/campaigns/{api.campaign_id}/{path}", params=params, headers=headers
    )
    return answer


def _recommend(api: Api, seq: int, city: str = OWN_CITY) -> str:
    """The log position after the recommendation (its answer carries it)."""
    api.clock.now = RECOMMENDING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants", json=form(seq, city), headers=ADMIN_HEADERS
    )
    assert answer.status_code == 201, answer.text
    position: str = answer.headers["X-Log-Position"]
    return position


def test_a_kept_answer_is_the_bytes_and_headers_of_an_unkept_one(api: Api) -> None:
    for seq, city in enumerate((OWN_CITY, OTHER_CITY, OWN_CITY)):
        api.recommend(seq, city)
    position = _recommend(api, 3, OTHER_CITY)
    cache = _cache(api)
    reads: list[tuple[str, dict[str, Any]]] = [
        ("contestants", {"min_position": position}),
        ("contestants", {"city": OWN_CITY, "sort": "time", "order": "desc", "page_size": 2}),
        ("contestants", {"q": form(1)["name"][:1], "page": 1}),
        ("quotas", {"min_position": position}),
    ]
    first = [_get(api, path, **params) for path, params in reads]
    hits = cache.hits
    kept = [_get(api, path, **params) for path, params in reads]
    assert cache.hits == hits + len(reads)
    _cache(api).max_entries = 0  # nothing kept: FastAPI serialises the route's model itself
    unkept = [_get(api, path, **params) for path, params in reads]
    for a, b, c in zip(first, kept, unkept, strict=True):
        assert a.status_code == b.status_code == c.status_code == 200
        assert a.content == b.content == c.content
        assert a.headers["content-type"] == c.headers["content-type"] == "application/json"
        assert a.headers["X-View-Position"] == b.headers["X-View-Position"] == c.headers["X-View-Position"]
    assert "X-View-Lag" in kept[0].headers
    assert "X-View-Lag" not in kept[1].headers
    assert len(unkept[0].json()["contestants"]) == 4


def test_a_new_event_in_the_view_is_seen_at_once(api: Api) -> None:
    first = _recommend(api, 1)
    before = _get(api, "contestants", min_position=first)
    quotas_before = _get(api, "quotas", min_position=first).json()
    assert _get(api, "contestants").content == before.content  # kept
    position = _recommend(api, 2)
    after = _get(api, "contestants", min_position=position)
    assert int(after.headers["X-View-Position"]) >= int(position)
    assert after.json()["total"] == before.json()["total"] + 1
    assert _get(api, "contestants").json() == after.json()
    quotas_after = _get(api, "quotas", min_position=position).json()
    recommended = {(q["city"], q["group"]): q["recommended"] for q in quotas_after["quotas"]}
    recommended_before = {(q["city"], q["group"]): q["recommended"] for q in quotas_before["quotas"]}
    assert recommended[(OWN_CITY, "trainee")] == recommended_before[(OWN_CITY, "trainee")] + 1


def test_an_erased_name_leaves_the_kept_answers(api: Api) -> None:
    api.recommend(6)
    contestant_id = api.recommend(7)
    name = form(7)["name"]
    listed = _get(api, "contestants", min_position=_recommend(api, 8), q=name)
    assert [c["name"] for c in listed.json()["contestants"]] == [name]
    everyone = _get(api, "contestants")
    assert name in everyone.text
    assert _get(api, "contestants").content == everyone.content
    api.clock.now = REVIEWING
    erased = api.client.post(
        f"/api/contestants/{contestant_id}/erase", json={"reason": "本人申请删除"}, headers=ADMIN_HEADERS
    )
    assert erased.status_code == 200, erased.text
    position = erased.headers["X-Log-Position"]
    after = _get(api, "contestants", min_position=position)
    assert name not in after.text
    assert ERASED in [c["name"] for c in after.json()["contestants"]]
    assert name not in _get(api, "contestants").text
    assert _get(api, "contestants", q=name).json()["contestants"] == []
    assert all(name.encode() not in body for body in _cache(api)._bodies.values())


def test_an_erased_name_leaves_memory_without_another_read(api: Api) -> None:
    """The sweep drops what a moved view's readers were given, though nobody reads it again."""
    contestant_id = api.recommend(9)
    name = form(9)["name"]
    assert name in _get(api, "contestants", min_position=_recommend(api, 10)).text
    assert any(name.encode() in body for body in _cache(api)._bodies.values())
    api.clock.now = REVIEWING
    erased = api.client.post(
        f"/api/contestants/{contestant_id}/erase", json={"reason": "本人申请删除"}, headers=ADMIN_HEADERS
    )
    assert erased.status_code == 200, erased.text
    deadline = time.monotonic() + 10
    while any(name.encode() in body for body in _cache(api)._bodies.values()):
        assert time.monotonic() < deadline, "the erased name is still kept"
        time.sleep(0.1)
    assert _cache(api).views() == []


def test_a_sweep_keeps_the_bodies_of_views_that_have_not_moved() -> None:
    cache = ReadCache()
    cache.put("roster", (0, 5), "all", b"roster at 5")
    cache.put("quotas", (0, 5), "all", b"quotas at 5")
    cache.sweep({"roster": 5, "quotas": 6})
    assert (cache.get("roster", (0, 5), "all"), cache.views()) == (b"roster at 5", ["roster"])
    cache.sweep({})  # positions not read this time: nothing is dropped
    assert cache.get("roster", (0, 5), "all") == b"roster at 5"


def test_readers_with_other_rights_never_get_each_others_answer(api: Api) -> None:
    api.recommend(1, OWN_CITY)
    position = _recommend(api, 2, OTHER_CITY)
    everyone = _get(api, "contestants", min_position=position).json()
    assert {c["city"] for c in everyone["contestants"]} == {OWN_CITY, OTHER_CITY}
    assert {c["city"] for c in _get(api, "contestants").json()["contestants"]} == {OWN_CITY, OTHER_CITY}
    for who, city in (("city_staff", OWN_CITY), ("other_city_staff", OTHER_CITY)):
        for _ in range(2):  # unkept, then kept
            own = _get(api, "contestants", who).json()
            assert {c["city"] for c in own["contestants"]} == {city}
    # a city asked for that is not the reader's own is refused even when another's answer is kept
    assert _get(api, "contestants", city=OTHER_CITY).status_code == 200
    assert _get(api, "contestants", "city_staff", city=OTHER_CITY).status_code == 403
    assert _get(api, "contestants", "leader").status_code == 403
    assert _get(api, "quotas").status_code == 200
    assert _get(api, "quotas", "leader").status_code == 200
    assert _get(api, "quotas", "leader", min_position=position).content == _get(api, "quotas").content
    assert _get(api, "contestants", "leader").status_code == 403


def test_an_unknown_campaign_is_refused_before_anything_is_kept(api: Api) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in ("contestants", "quotas"):
        for _ in range(2):
            answer = api.client.get(f"/api/campaigns/{unknown}/{path}", headers=ADMIN_HEADERS)
            assert answer.status_code == 404, answer.text


def test_the_cache_is_bounded_and_keeps_one_stamp_per_view() -> None:
    cache = ReadCache(max_entries=2, max_bytes=10)
    cache.put("roster", (1, 5), "a", b"aaaa")
    cache.put("roster", (1, 5), "b", b"bbbb")
    cache.put("quotas", (1, 3), "q", b"qq")  # the third entry: the least recently used goes
    assert cache.get("roster", (1, 5), "a") is None
    assert cache.get("roster", (1, 5), "b") == b"bbbb"
    cache.put("roster", (1, 5), "c", b"cccccccc")  # over the byte bound: older ones go
    assert (cache.get("roster", (1, 5), "b"), cache.get("roster", (1, 5), "c")) == (None, b"cccccccc")
    cache.put("quotas", (1, 3), "q", b"qq")
    cache.put("roster", (1, 4), "old", b"o")  # a reader behind the stamp: what was kept goes
    assert cache.get("roster", (1, 5), "c") is None
    assert cache.get("roster", (1, 5), "old") is None
    cache.put("roster", (1, 5), "c", b"c")
    assert cache.get("roster", (1, 6), "c") is None  # the view moved on: what it kept is gone
    assert cache.get("roster", (1, 5), "c") is None
    cache.put("roster", (1, 6), "d", b"d")
    assert cache.get("roster", (1, 6), "d") == b"d"
    assert cache.get("roster", (2, 6), "d") is None  # another generation of tables
    assert cache.get("quotas", (1, 3), "q") == b"qq"  # another view is untouched
    cache.clear()
    assert cache.get("quotas", (1, 3), "q") is None
    assert len(cache) == 0
    off = ReadCache(max_entries=0)
    off.put("roster", (1, 1), "a", b"a")
    assert not off.enabled
    assert off.get("roster", (1, 1), "a") is None


def test_readers_of_one_body_wait_for_one_read_which_outlives_them() -> None:
    cache = ReadCache()
    started, release = threading.Event(), threading.Event()

    def read() -> bytes:
        started.set()
        release.wait(5)
        return b"body"

    async def readers() -> list[bytes]:
        waiting = [asyncio.create_task(cache.answer("roster", (1, 1), "k", read)) for _ in range(5)]
        await asyncio.to_thread(started.wait, 5)
        waiting[0].cancel()  # the first reader goes away: the others still get the body
        release.set()
        return await asyncio.gather(*waiting[1:])

    assert asyncio.run(readers()) == [b"body"] * 4
    assert cache.reads == 1
    assert cache.get("roster", (1, 1), "k") == b"body"


def test_a_failed_read_fails_its_waiters_and_keeps_nothing() -> None:
    cache = ReadCache()
    calls: list[int] = []

    def read() -> bytes:
        calls.append(1)
        raise RuntimeError("the view is being built")

    async def readers() -> list[bytes | BaseException]:
        waiting = [cache.answer("quotas", (1, 1), "k", read) for _ in range(3)]
        return await asyncio.gather(*waiting, return_exceptions=True)

    assert all(isinstance(found, RuntimeError) for found in asyncio.run(readers()))
    assert len(calls) == 1
    assert cache.get("quotas", (1, 1), "k") is None
    assert isinstance(asyncio.run(readers())[0], RuntimeError)
    assert len(calls) == 2
