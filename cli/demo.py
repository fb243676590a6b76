"""The whole 2021 notice on a simulated clock: launch to awards, with the refusals it must make."""

from __future__ import annotations

import hashlib
import random
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from application import decisions
from application.errors import ApplicationError, CampaignExists
from application.service import CampaignService
from cli.people import FakePerson, fake_person
from domain.decision import DecisionContext as Ctx
from domain.errors import DomainError, OutOfOrder
from domain.ids import campaign_id
from domain.lifecycle import Status
from domain.team import TeamRole
from domain.timeline import PhaseCode, PhaseStatus, day_start, shanghai_text
from domain.users import user_id
from domain.values import CITY_QUOTAS, SCHEDULER, Actor, Channel, Role

ADMIN = Actor("organiser-demo", Role.ADMIN)
JUDGE = Actor("judge-demo", Role.JUDGE)
PUBLIC = Actor("wechat-self-registration", Role.PUBLIC)


def staff_of(city: str) -> Actor:
    return Actor(f"staff-{city}", Role.CITY_STAFF, city)


def on(month: int, day: int, hour: int = 10) -> datetime:
    return day_start(date(2021, month, day)) + timedelta(hours=hour)


@dataclass
class Tally:
    outcomes: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def attempt(self, label: str, command: Callable[..., object], *args: Any, **kwargs: Any) -> bool:
        """Run one command; a refusal is counted under its rule, never raised."""
        try:
            command(*args, **kwargs)
        except (DomainError, ApplicationError) as error:
            self.refusals[error.rule] += 1
            self.examples.setdefault(error.rule, error.detail)
            return False
        self.outcomes[label] += 1
        return True


class Demo:
    """One simulated campaign; every decision is a real command against the configured store."""

    def __init__(self, service: CampaignService, name: str, size: int, seed: int, console: Console):
        self.service = service
        self.name = name
        self.size = size
        self.rng = random.Random(seed)  # noqa: S311 - made-up people, not secrets
        self.console = console
        self.tally = Tally()
        self.ids: dict[UUID, FakePerson] = {}
        self.campaign_id = campaign_id(name)
        self.resuming = False

    def run(self) -> str:
        """``fresh``; ``done`` when this store holds the whole campaign already (nothing is recorded
        twice); ``resumed`` when an earlier run stopped half-way: its commands are given again,
        those already recorded are refused by the rules, and the rest completes the campaign.
        """
        try:
            self.service.launch_campaign(self.name, Ctx(actor=ADMIN, at=on(5, 20)))
            outcome = "fresh"
        except CampaignExists:
            if self.finished():
                return "done"
            outcome, self.resuming = "resumed", True
        self.scheduler_until(on(6, 10))
        announced = day_start(date(2021, 6, 15))
        if (
            self.service.get_campaign(self.campaign_id).timeline[PhaseCode.SELF_REGISTRATION].opens
            != announced
        ):
            self.service.amend_timeline(
                self.campaign_id,
                {PhaseCode.SELF_REGISTRATION: {"opens": announced}},
                Ctx(actor=ADMIN, at=on(6, 10), reason="自主报名通道开通时间另行通知: opening announced"),
            )
        self.nominate_everyone()
        self.review()
        self.train()
        self.compete()
        self.pick_teams()
        self.award()
        self.scheduler_until(on(9, 16))  # the last step: the ceremony's close marks a finished run
        return outcome

    def finished(self) -> bool:
        campaign = self.service.get_campaign(self.campaign_id)
        return campaign.phase_status[PhaseCode.CEREMONY] is PhaseStatus.CLOSED

    # --- phases --------------------------------------------------------------

    def scheduler_until(self, at: datetime) -> None:
        try:
            recorded = self.service.record_due_boundaries(self.campaign_id, Ctx(actor=SCHEDULER, at=at))
        except OutOfOrder:
            if not self.resuming:
                raise
            return  # the run that stopped half-way recorded these boundaries, and later decisions
        for code, side in recorded:
            self.tally.outcomes[f"{code} {side}"] += 1

    def nominate_everyone(self) -> None:
        people = list(self.people())
        with Progress(console=self.console, transient=True) as progress:
            task = progress.add_task("nominating", total=len(people))
            for index, (fake, channel) in enumerate(people):
                at = (on(6, 8) if channel is Channel.RECOMMENDED else on(6, 16)) + timedelta(minutes=index)
                self.scheduler_until(at)
                self.nominate(fake, channel, at)
                progress.advance(task)
        self.scheduler_until(on(7, 2))
        late = fake_person(self.rng, 9001, "武汉市", "veteran")
        self.nominate(late, Channel.RECOMMENDED, on(7, 2))  # recommendation closed at 24:00 on 1 July

    def people(self) -> Iterator[tuple[FakePerson, Channel]]:
        """Mostly valid people across all 17 cities and three groups, plus deliberate mistakes."""
        cities = list(CITY_QUOTAS)
        for serial in range(self.size):
            city = cities[serial % len(cities)]
            group = ("trainee", "veteran", "family")[serial % 3]
            channel = Channel.SELF if group != "trainee" and serial % 4 == 0 else Channel.RECOMMENDED
            yield fake_person(self.rng, serial, city, group), channel
        shennongjia = [fake_person(self.rng, 8000 + n, "神农架林区", "trainee") for n in range(5)]
        yield from ((p, Channel.RECOMMENDED) for p in shennongjia)  # quota of 3: two refused
        first = fake_person(self.rng, 8100, "黄石市", "veteran")
        yield first, Channel.RECOMMENDED
        yield replace(first, account="another_handle"), Channel.SELF  # same person again
        yield (
            replace(fake_person(self.rng, 8101, "宜昌市", "family"), account=first.account.upper()),
            (Channel.SELF),
        )  # someone else's account, in other case
        typo = fake_person(self.rng, 8102, "孝感市", "veteran")
        yield (
            replace(typo, id_number=typo.id_number[:-1] + ("1" if typo.id_number[-1] != "1" else "2")),
            (Channel.RECOMMENDED),
        )  # mistyped check character
        yield (
            fake_person(self.rng, 8103, "荆州市", "trainee"),
            Channel.SELF,
        )  # trainees only by recommendation

    def nominate(self, fake: FakePerson, channel: Channel, at: datetime) -> None:
        actor = staff_of(fake.city) if channel is Channel.RECOMMENDED else PUBLIC

        def command() -> None:
            person = fake.person(experience=True)
            if self.resuming and (earlier := self._nominated_before(fake, channel)) is not None:
                self.ids[earlier] = fake  # recorded by the run that stopped half-way
                return
            contestant = self.service.nominate(
                self.campaign_id, person, channel, Ctx(actor=actor, at=at), unit=f"{fake.city}退役军人事务局"
            )
            self.ids[contestant.id] = fake

        self.tally.attempt(f"nominated ({channel})", command)

    def _nominated_before(self, fake: FakePerson, channel: Channel) -> UUID | None:
        """This very row (person, channel and account) as an earlier run recorded it, if it did."""
        try:
            found = self.service.find_contestant(self.campaign_id, fake.id_number)
        except (DomainError, ApplicationError):
            return None
        same_row = found.channel is channel and found.account.casefold() == fake.account.casefold()
        return found.id if same_row else None

    def review(self) -> None:
        self.scheduler_until(on(7, 3))
        for n, contestant_id in enumerate(self.ids):
            at = on(7, 3) + timedelta(minutes=n)
            if n % 29 == 7:
                self.tally.attempt(
                    "rejected",
                    self.service.decide,
                    contestant_id,
                    decisions.REJECT,
                    Ctx(actor=ADMIN, at=at, reason="未能提供有效退役军人证件", evidence="审核记录"),
                )
            else:
                self.tally.attempt(
                    "verified",
                    self.service.decide,
                    contestant_id,
                    decisions.VERIFY,
                    Ctx(actor=ADMIN, at=at, evidence="资格审核通过"),
                )

    def with_status(self, status: Status) -> list[UUID]:
        return [c for c in self.ids if self.service.get_contestant(c).status is status]

    def train(self) -> None:
        self.scheduler_until(on(7, 10))
        for n, contestant_id in enumerate(self.with_status(Status.VERIFIED)):
            self.tally.attempt(
                "training account assigned",
                self.service.decide,
                contestant_id,
                decisions.assign_training_account(f"GDJY-{contestant_id.hex[:8]}"),
                Ctx(actor=ADMIN, at=on(7, 10)),
            )
            if n % 37 == 5:
                self.tally.attempt(
                    "withdrawn",
                    self.service.decide,
                    contestant_id,
                    decisions.WITHDRAW,
                    Ctx(
                        actor=staff_of(self.ids[contestant_id].city),
                        at=on(7, 12),
                        reason="本人因工作原因退出",
                    ),
                )
        for contestant_id in self.with_status(Status.ENROLLED):
            self.tally.attempt(
                "trained",
                self.service.decide,
                contestant_id,
                decisions.RECORD_TRAINING,
                Ctx(actor=JUDGE, at=on(7, 18), evidence="线上培训课程完成"),
            )

    def compete(self) -> None:
        self.scheduler_until(on(7, 20))
        events = ("short_video", "account_operation", "livestream_selling")
        for contestant_id in self.with_status(Status.TRAINED):
            scores = {event: round(self.rng.uniform(50, 100), 1) for event in events}
            self.tally.attempt(
                "competed",
                self.service.decide,
                contestant_id,
                decisions.record_results(scores),
                Ctx(actor=JUDGE, at=on(8, 28)),
            )
        self.scheduler_until(on(9, 1))

    def pick_teams(self) -> None:
        """Per city: the best scorers, trainees first, as 4 to 6 streamers and 1 assistant."""
        by_city: dict[str, list[UUID]] = {}
        for contestant_id in self.with_status(Status.COMPETED):
            by_city.setdefault(self.ids[contestant_id].city, []).append(contestant_id)
        for city, members in by_city.items():
            staff = staff_of(city)
            if self.service.get_user(user_id(staff.user)) is None:  # a leader is a stored user
                nobody_knows = hashlib.sha256(secrets.token_bytes(32)).hexdigest()
                self.service.create_user(
                    staff.user, "city_staff", city, nobody_knows, Ctx(actor=ADMIN, at=on(9, 1))
                )
            self.tally.attempt(
                "team leader appointed",
                self.service.appoint_team_leader,
                self.campaign_id,
                city,
                Ctx(actor=staff, at=on(9, 1)),
                name=f"{city}领队",
                staff_user=staff.user,
            )
            ranked = sorted(members, key=self.rank, reverse=True)
            for n, contestant_id in enumerate(ranked[:7]):
                role = TeamRole.ASSISTANT if n == 6 else TeamRole.STREAMER
                self.tally.attempt(
                    f"advanced as {role}",
                    self.service.decide,
                    contestant_id,
                    decisions.advance(role),
                    Ctx(actor=staff, at=on(9, 2)),
                )

    def rank(self, contestant_id: UUID) -> tuple[bool, float]:
        contestant = self.service.get_contestant(contestant_id)
        trainee_first = contestant.group.value == "trainee"
        return trainee_first, sum((contestant.results or {}).values())

    def award(self) -> None:
        self.scheduler_until(on(9, 7))
        finalists = sorted(self.with_status(Status.ADVANCED), key=self.rank, reverse=True)
        prizes = ["一等奖"] * 3 + ["二等奖"] * 6 + ["三等奖"] * 9
        for contestant_id, prize in zip(finalists, prizes, strict=False):
            self.tally.attempt(
                "awarded",
                self.service.decide,
                contestant_id,
                decisions.award(prize),
                Ctx(actor=ADMIN, at=on(9, 7, 20), reason="决赛评审结果"),
            )
        for contestant_id in finalists[-1:]:
            self.tally.attempt(
                "disqualified",
                self.service.decide,
                contestant_id,
                decisions.DISQUALIFY,
                Ctx(actor=ADMIN, at=on(9, 10), reason="决赛中违规使用他人账号", evidence="评委组复核意见"),
            )
        for contestant_id in finalists[len(prizes) : len(prizes) + 1]:  # after the ceremony: refused
            self.tally.attempt(
                "awarded",
                self.service.decide,
                contestant_id,
                decisions.award("特别奖"),
                Ctx(actor=ADMIN, at=on(9, 16)),
            )


def print_summary(demo: Demo, outcome: str, store: str, console: Console) -> None:
    service = demo.service
    campaign = service.get_campaign(demo.campaign_id)
    fresh = outcome != "done"
    if outcome == "done":
        console.print(
            f"[yellow]Campaign {campaign.name!r} is already in this store; nothing was recorded again."
        )
    elif outcome == "resumed":
        console.print(
            f"[yellow]Campaign {campaign.name!r} was left half-run by an earlier run; it is complete now. "
            "The refusals below include the commands that earlier run had recorded already."
        )
    table = Table(title=f"{campaign.name} — rule version {campaign.rule_version}")
    table.add_column("phase")
    table.add_column("window (Asia/Shanghai)")
    table.add_column("recorded status")
    for code in PhaseCode:
        window = campaign.timeline[code]
        opens = shanghai_text(window.opens) if window.opens else "not announced"
        closes = shanghai_text(window.closes) if window.closes else "—"
        table.add_row(code.value, f"{opens} → {closes}", campaign.phase_status[code].value)
    console.print(table)
    if fresh:
        outcomes = Table(title="Decisions recorded")
        outcomes.add_column("decision")
        outcomes.add_column("count", justify="right")
        for label, count in sorted(demo.tally.outcomes.items()):
            outcomes.add_row(label, str(count))
        console.print(outcomes)
        refusals = Table(title="Refused, by rule (nothing written)")
        refusals.add_column("rule")
        refusals.add_column("count", justify="right")
        refusals.add_column("for example")
        for rule, count in sorted(demo.tally.refusals.items()):
            refusals.add_row(rule, str(count), demo.tally.examples[rule])
        console.print(refusals)
    events = service.recorder.max_notification_id() or 0
    console.print(f"{events} events stored in {store}. Campaign id: {demo.campaign_id}")
