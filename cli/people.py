"""Plausible, made-up people for the demo: valid ID numbers, mobiles and accounts."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.cn import ric

from domain.values import Person

# A real county-level code of each city, so generated ID numbers look like local ones.
REGION_CODES = {
    "武汉市": "420102",
    "黄石市": "420202",
    "十堰市": "420302",
    "襄阳市": "420602",
    "宜昌市": "420502",
    "荆州市": "421002",
    "荆门市": "420802",
    "鄂州市": "420702",
    "孝感市": "420902",
    "黄冈市": "421102",
    "咸宁市": "421202",
    "随州市": "421303",
    "恩施州": "422801",
    "仙桃市": "429004",
    "天门市": "429006",
    "潜江市": "429005",
    "神农架林区": "429021",
}
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红兵鹏飞宇浩然子轩欣怡梓涵雨萱俊杰文博"
_MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "138", "139", "150", "155", "158", "177", "186", "189")
_HANDLE_WORDS = ("veteran", "zhanyou", "hubei", "laobing", "junlv", "live", "chuxin", "jiangcheng")


@dataclass(frozen=True)
class FakePerson:
    name: str
    id_number: str
    mobile: str
    city: str
    group: str
    platform: str
    account: str
    followers: int
    experience: str

    def person(self, *, account: str | None = None, experience: bool = False) -> Person:
        """The parsed person, under another account when given (a run of its own)."""
        return Person.parse(
            name=self.name,
            id_number=self.id_number,
            mobile=self.mobile,
            city=self.city,
            group=self.group,
            platform=self.platform,
            account=account or self.account,
            followers=self.followers,
            experience=self.experience if experience else None,
        )


def resident_id(rng: random.Random, city: str) -> str:
    born = date(1965, 1, 1) + timedelta(days=rng.randrange(365 * 36))
    body = f"{REGION_CODES[city]}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")


def fake_person(rng: random.Random, serial: int, city: str, group: str) -> FakePerson:
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    followers = int(rng.paretovariate(1.2) * 300)
    return FakePerson(
        name=name,
        id_number=resident_id(rng, city),
        mobile=f"{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}",
        city=city,
        group=group,
        platform=rng.choice(("douyin", "kuaishou")),
        account=f"{rng.choice(_HANDLE_WORDS)}_{serial:04d}",
        followers=followers,
        experience=rng.choice(("无", "1年直播带货经验", "短视频创作两年", "曾获县级直播比赛三等奖")),
    )
