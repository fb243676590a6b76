"""Small builders of valid test data: people, Shanghai instants, actors."""

from __future__ import annotations

from datetime import datetime

from stdnum.cn import ric

from domain.timeline import SHANGHAI
from domain.values import Actor, Person, Role

ADMIN = Actor(user="organiser-1", role=Role.ADMIN)
JUDGE = Actor(user="judge-1", role=Role.JUDGE)
PUBLIC = Actor(user="wechat-user-1", role=Role.PUBLIC)


def city_staff(city: str) -> Actor:
    return Actor(user=f"staff-{city}", role=Role.CITY_STAFF, city=city)


def id_number(seq: int) -> str:
    """A valid resident ID number (Wuhan, born 1990-01-01), unique per ``seq`` < 1000."""
    body = "420102" + "19900101" + f"{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def mobile(seq: int) -> str:
    return f"138{seq:08d}"


def make_person(
    seq: int,
    city: str = "武汉市",
    group: str = "trainee",
    platform: str = "douyin",
    *,
    handle: str | None = None,
) -> Person:
    """A valid nomination form row; ``seq`` makes the ID number, mobile and account unique."""
    return Person.parse(
        name=f"选手{seq}",
        id_number=id_number(seq),
        mobile=mobile(seq),
        city=city,
        group=group,
        platform=platform,
        account=handle or f"streamer{seq}",
        followers=100 * seq,
    )


def shanghai(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """An aware instant on the campaign's calendar (Asia/Shanghai)."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SHANGHAI)
