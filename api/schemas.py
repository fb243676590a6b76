"""Request and response bodies; requests and responses are separate models."""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PlainSerializer,
    ValidationError,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from api.messages_zh import rule_message
from domain.text import text_problem
from domain.timeline import SHANGHAI, PhaseCode, PhaseStatus
from domain.values import Person, mask_free_text


def _one_line(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _lines(value: str) -> str:
    problem = text_problem(value, multiline=True)
    if problem is not None:
        raise ValueError(problem)
    return value


FIRST_YEAR, LAST_YEAR = 1900, 2100
_Dated = TypeVar("_Dated", date, datetime)


def _in_years(value: _Dated) -> _Dated:
    """Checked on the instant's own calendar date: converting 9999-12-31T23:59:59-14:00 to UTC overflows."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must fall in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


#: Text of one line: control characters, lone surrogates and bidi overrides refused (422 naming the field).
Line = Annotated[str, AfterValidator(_one_line)]
#: Text of several lines (experience, notes, reason, evidence): tab and line breaks allowed too.
Lines = Annotated[str, AfterValidator(_lines)]
#: Typed text in an answer (reason, evidence, contact, notes): ID and mobile numbers in it masked.
Masked = Annotated[str, AfterValidator(mask_free_text)]
#: The free-text fields among a history entry's changes.
FREE_TEXT = frozenset({"experience", "notes", "contact", "unit", "reason", "evidence"})


_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DIGITS = re.compile(r"[+-]?\d+(\.\d*)?")
# 24:00 as pages print a closing day's end: ISO 8601's end of that day, the next day's 00:00.
_END_OF_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})([T ])24:00(?::00(?:\.0+)?)?((?:Z|[+-]\d{2}(?::?\d{2})?)?)")


def _written_out(value: Any) -> Any:
    """Refuse a bare number (pydantic would read 20261203 as Unix seconds); read 24:00 as the next 00:00."""
    if isinstance(value, int | float) or (isinstance(value, str) and _DIGITS.fullmatch(value.strip())):
        raise ValueError(
            "digits alone are not a day or an instant: write a day as YYYY-MM-DD "
            "or an instant as ISO 8601, e.g. 2026-12-03T10:00:00+08:00"
        )
    end_of_day = _END_OF_DAY.fullmatch(value.strip()) if isinstance(value, str) else None
    if end_of_day is None:
        return value
    day, separator, zone = end_of_day.groups()
    try:
        next_day = date.fromisoformat(day) + timedelta(days=1)
    except (ValueError, OverflowError):
        return value  # an impossible day: the type's own check names it
    return f"{next_day.isoformat()}{separator}00:00:00{zone}"


def _plain_day(value: Any) -> date | None:
    """``2021-06-10`` (a day, no time): checked for its years here, before it becomes an instant."""
    if isinstance(value, str) and _PLAIN_DATE.fullmatch(value.strip()):
        return _in_years(date.fromisoformat(value.strip()))
    if isinstance(value, date) and not isinstance(value, datetime):
        return _in_years(value)
    return None


#: An instant with a time zone in the years 1900 to 2100 (422 naming the field otherwise);
#: ``T24:00`` is the next day's 00:00, bare digits are refused.
Instant = Annotated[AwareDatetime, BeforeValidator(_written_out), AfterValidator(_in_years)]
#: An instant, with or without a time zone, in the years 1900 to 2100.
AnyInstant = Annotated[datetime, BeforeValidator(_written_out), AfterValidator(_in_years)]
#: A day in the years 1900 to 2100, written YYYY-MM-DD.
Day = Annotated[date, BeforeValidator(_written_out), AfterValidator(_in_years)]


def _day_end_or_instant(value: Any) -> Any:
    day = _plain_day(value)
    return value if day is None else datetime.combine(day, time.max, SHANGHAI)


def _day_start_or_instant(value: Any) -> Any:
    day = _plain_day(value)
    return value if day is None else datetime.combine(day, time.min, SHANGHAI)


def _next_day_or_instant(value: Any) -> Any:
    day = _plain_day(value)
    return value if day is None else datetime.combine(day + timedelta(days=1), time.min, SHANGHAI)


def _in_shanghai(value: datetime) -> datetime:
    """An instant written without a time zone is read as Beijing time, as every business time is."""
    return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value


#: "As it stood at": an instant with a time zone, or a day, meaning the end of that day in
#: Asia/Shanghai (``2021-06-10`` is 2021-06-10T23:59:59.999999+08:00).
AsOf = Annotated[
    AwareDatetime,
    BeforeValidator(_day_end_or_instant),
    BeforeValidator(_written_out),
    AfterValidator(_in_years),
]


def read_up_to_now(as_of: datetime, now: datetime) -> datetime:
    """An ``AsOf`` read at ``now``: the end of today (a day that has not ended) is read up to now.

    Any other instant is kept as it is; one after now is the reading's to refuse.
    """
    local = as_of.astimezone(SHANGHAI)
    today = now.astimezone(SHANGHAI).date()
    return now if as_of > now and local.date() == today and local.time() == time.max else as_of


#: The start of a time range (inclusive): an instant, or a day (from 00:00 Asia/Shanghai).
Since = Annotated[
    datetime,
    BeforeValidator(_day_start_or_instant),
    BeforeValidator(_written_out),
    AfterValidator(_in_years),
    AfterValidator(_in_shanghai),
]
#: The end of a time range (exclusive): an instant, or a day (through its end: the next day's 00:00).
Until = Annotated[
    datetime,
    BeforeValidator(_next_day_or_instant),
    BeforeValidator(_written_out),
    AfterValidator(_in_years),
    AfterValidator(_in_shanghai),
]


@functools.lru_cache(maxsize=65_536)  # a roster page shows the same instants to every reader
def _local_text(instant: datetime) -> str:
    return instant.astimezone(SHANGHAI).isoformat()


def _instant(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


# A business instant as people in Hubei read it: 2021-05-24T00:00:00+08:00, not ...16:00Z of
# the day before. The same instant; stored in UTC.
LocalInstant = Annotated[
    datetime, BeforeValidator(_instant), PlainSerializer(_local_text, return_type=str, when_used="json")
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _CheckedWhole(_Request):
    """A body whose fields the domain checks too: a refusal by the schema names the domain's problems
    with the fields the schema let through, so that one 422 names every bad field."""

    @classmethod
    def field_rules(cls, fields: dict[str, Any]) -> dict[str, str]:
        """The domain's problems with these fields (those the schema let through), by field."""
        raise NotImplementedError

    @classmethod
    def form_order(cls) -> dict[str, int]:
        """Each field's place in the form: a 422 lists bad fields in this order (unknown ones last)."""
        return {name: place for place, name in enumerate(cls.model_fields)}

    @classmethod
    def in_form_order(cls, problems: dict[str, str]) -> dict[str, str]:
        """The domain's problems with a form that passed the schema, in the form's order."""
        order = cls.form_order()
        return dict(sorted(problems.items(), key=lambda item: order.get(item[0], len(order))))

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        try:
            return handler(data)
        except ValidationError as error:
            if not isinstance(data, dict):
                raise
            refused = {item["loc"][0] for item in error.errors() if item["loc"]}
            passed = {k: v for k, v in data.items() if k in cls.model_fields and k not in refused}
            problems = cls.field_rules(passed)
            if not problems:
                raise
            items: list[InitErrorDetails] = [
                {
                    # the context kept (a length limit, say), so that the answer can reword it
                    "type": PydanticCustomError(
                        item["type"], "{message}", {**(item.get("ctx") or {}), "message": item["msg"]}
                    ),
                    "loc": item["loc"],
                    "input": item["input"],
                }
                for item in error.errors(include_url=False)
            ]
            items += [
                {
                    "type": PydanticCustomError("value_error", "{message}", {"message": detail}),
                    "loc": (field,),
                    "input": data.get(field),
                }
                for field, detail in problems.items()
            ]
            order = cls.form_order()
            items.sort(key=lambda item: order.get(str(item["loc"][0]) if item["loc"] else "", len(order)))
            raise ValidationError.from_exception_data(error.title, items) from None


# --- users ----------------------------------------------------------------------


class UserCreate(_Request):
    username: Line = Field(
        min_length=1,
        max_length=64,
        examples=["wuhan-staff-1"],
        description="NFKC-normalised; reserved names (scheduler, public, admin, ...) and look-alikes "
        "of an existing user (other case, Cyrillic or Greek letters) are refused",
    )
    role: Literal["admin", "city_staff", "judge", "auditor", "leader"]
    city: Line | None = Field(
        default=None, max_length=32, description="required for city_staff, one of 附件1"
    )
    token_expires_at: Instant | None = Field(default=None, description="the token stops at this instant")


class UserCreated(BaseModel):
    username: str
    role: str
    city: str | None
    token: str | None = Field(
        description="shown once; only its SHA-256 is stored, so a replayed answer (same "
        "Idempotency-Key) has null here: rotate the token to get a new one"
    )
    token_expires_at: LocalInstant | None = None


class UserOut(BaseModel):
    username: str
    role: str
    city: str | None
    disabled: bool
    token_expires_at: LocalInstant | None
    created_at: LocalInstant
    version: int = Field(description="the user's version: send it as If-Match to change this user")


class UserChange(_Request):
    reason: Lines | None = Field(default=None, max_length=500)


class TokenRotation(_Request):
    token_expires_at: Instant | None = Field(default=None, description="the new token stops at this instant")
    reason: Lines | None = Field(default=None, max_length=500)


class TokenIssued(BaseModel):
    username: str
    token: str | None = Field(description="shown once; null in a replayed answer")
    token_expires_at: LocalInstant | None


class RegistrationReceived(BaseModel):
    receipt: UUID = Field(description="quote it when asking about the registration")
    message: str = Field(examples=["已收到报名，审核后通知结果"])


class Me(BaseModel):
    user: str
    role: str
    city: str | None


# --- campaigns ------------------------------------------------------------------


class WindowIn(_Request):
    opens: Instant | None = Field(
        default=None, description="ISO instant with a time zone; null: not announced"
    )
    closes: Instant | None = Field(default=None, description="exclusive end; null: open-ended")


Timeline = dict[PhaseCode, WindowIn]


class CampaignCreate(_Request):
    name: Line = Field(min_length=1, max_length=200, examples=["战友杯 2021"])
    template: Literal["hubei-2021"] | None = Field(
        default=None, description="a built-in timeline; the default when no timeline is given"
    )
    start: Day | None = Field(
        default=None, description="shift the template so that publicity opens on this day"
    )
    timeline: Timeline | None = Field(
        default=None,
        description="explicit windows per phase or channel code; with a template they amend it, "
        "without one they are the whole timeline (codes left out are not announced)",
    )
    age_rules: dict[Literal["trainee", "veteran", "family"], AgeRuleIn] | None = Field(
        default=None, description="age at nomination per group; a group left out takes adults (18 or over)"
    )
    awards: AwardsIn | None = Field(default=None, description="award kinds and the score scale")
    retention: RetentionIn | None = Field(
        default=None,
        description="how long the contestants' personal data are kept (none: until erased by hand)",
    )


class RetentionIn(_Request):
    erase_after_days: int = Field(
        ge=0,
        le=3650,
        examples=[180],
        description="whole days after the award ceremony ends: the personal data are erased at 00:00 "
        "Asia/Shanghai of that day, by the scheduler; the audit trail is kept",
    )


class RetentionAmend(_Request):
    erase_after_days: int | None = Field(
        ge=0, le=3650, examples=[180], description="as at launch; null drops the policy"
    )
    reason: Lines = Field(min_length=1, max_length=500)
    evidence: Lines | None = Field(default=None, max_length=500, description="what the decision rests on")


class AgeRuleIn(_Request):
    min_age: int | None = Field(
        default=18, ge=0, le=150, description="youngest age at nomination; null: none"
    )
    max_age: int | None = Field(
        default=None, ge=0, le=150, description="oldest age at nomination; null: none"
    )


class AwardsIn(_Request):
    individual: list[str] = Field(
        default=["一等奖", "二等奖", "三等奖", "优秀奖"], max_length=50, description="prizes for a person"
    )
    team: list[str] = Field(default=["优秀组织奖"], max_length=50, description="prizes for a city's team")
    score_max: float = Field(
        default=100, gt=0, le=10_000, description="each contest event is scored 0 to this"
    )


class TimelineAmend(_Request):
    timeline: Timeline = Field(description="only the entries (and sides) that change")
    reason: Lines = Field(min_length=1, max_length=500)
    evidence: Lines | None = Field(default=None, max_length=500, description="what the decision rests on")


class Override(_Request):
    reason: Lines = Field(min_length=1, max_length=500)
    evidence: Lines | None = Field(default=None, max_length=500, description="what the decision rests on")


class WindowOut(BaseModel):
    opens: LocalInstant | None
    closes: LocalInstant | None
    status: PhaseStatus = Field(description="by the dates, now")
    recorded: PhaseStatus = Field(description="as last recorded by the scheduler or an organiser")


class CampaignOut(BaseModel):
    id: UUID
    name: str
    version: int
    template: str | None
    rule_version: int
    timeline: dict[str, WindowOut]
    quotas: dict[str, dict[str, int]] = Field(description="city -> group -> recommendation places")
    caps: dict[str, int] = Field(description="group -> most contestants")
    age_rules: dict[str, dict[str, int | None]] = Field(
        description="group -> {min_age, max_age} at nomination (null: no bound)"
    )
    awards: dict[str, Any] = Field(description="individual and team award kinds, and score_max")
    retention: RetentionOut | None = Field(default=None, description="the retention policy, if any")


class RetentionOut(BaseModel):
    erase_after_days: int
    due: LocalInstant | None = Field(
        description="00:00 Asia/Shanghai when the personal data fall due; null while the ceremony has no end"
    )
    carried_out_at: LocalInstant | None = Field(description="when the scheduler erased them")


class RetentionCandidateOut(BaseModel):
    id: UUID
    city: str
    group: str
    channel: str
    name: str = Field(description="masked, e.g. 张*")
    nominated_at: LocalInstant


class RetentionPlanOut(BaseModel):
    """The dry run: nothing is erased by reading it."""

    campaign_id: UUID
    state: Literal["none", "unscheduled", "pending", "done"] = Field(
        description="none: no policy; unscheduled: the ceremony has no end yet; pending; done"
    )
    erase_after_days: int | None
    due: LocalInstant | None
    carried_out_at: LocalInstant | None
    rule: str | None = Field(description="the reason the scheduler's erasures will record")
    total: int
    contestants: list[RetentionCandidateOut] = Field(description="who would be erased, in nomination order")


class CampaignSummary(BaseModel):
    id: UUID
    name: str
    template: str | None
    rule_version: int
    launched_at: LocalInstant
    open_now: list[str] = Field(description="phase and channel codes open now, by the dates")


class UserSummary(BaseModel):
    username: str
    role: str
    city: str | None


# --- contestants ----------------------------------------------------------------


class Nomination(_CheckedWhole):
    group: Line = Field(
        max_length=32, examples=["veteran"], description="trainee, veteran, family (or 中文 title)"
    )
    city: Line = Field(max_length=32, examples=["武汉市"])
    name: Line = Field(max_length=100, examples=["张三"])
    id_number: Line = Field(max_length=40, examples=["420102199001011234"])
    mobile: Line = Field(max_length=40, examples=["13812345678"])
    platform: Line = Field(max_length=32, examples=["douyin"], description="douyin (抖音) or kuaishou (快手)")
    account: Line = Field(max_length=100, examples=["zhanyou_zhang"])
    followers: int = Field(ge=0, le=10**12)
    experience: Lines | None = Field(default=None, max_length=2000)
    notes: Lines | None = Field(default=None, max_length=2000)

    @classmethod
    def field_rules(cls, fields: dict[str, Any]) -> dict[str, str]:
        return Person.problems(fields)


class Recommendation(Nomination):
    unit: Line | None = Field(default=None, max_length=200, description="推荐单位")
    contact: Line | None = Field(default=None, max_length=100, description="联系人")
    reason: Lines | None = Field(default=None, max_length=500)
    evidence: Lines | None = Field(default=None, max_length=500)


class Registration(Nomination):
    """Self-registration: the person's own form."""


class ContestantRef(BaseModel):
    id: UUID
    version: int
    status: str


class ContestantOut(BaseModel):
    """ID and mobile numbers are masked."""

    id: UUID
    campaign_id: UUID
    version: int
    status: str
    channel: str
    group: str
    city: str
    name: str
    id_number: str = Field(examples=["420102********1234"])
    mobile: str = Field(examples=["138****5678"])
    platform: str
    account: str
    followers: int
    experience: Masked
    notes: Masked
    unit: Masked | None
    contact: Masked | None
    training_account: str | None
    results: dict[str, float] | None
    team_role: str | None
    award: str | None = Field(description="the latest award")
    awards: list[str] = Field(description="every award, in the order given")
    nominated_at: LocalInstant
    modified_at: LocalInstant


class PersonalData(BaseModel):
    id: UUID
    name: str
    id_number: str
    mobile: str


class HistoryEntryOut(BaseModel):
    version: int
    type: str
    at: LocalInstant
    user: str | None
    role: str | None
    city: str | None
    reason: Masked | None
    evidence: Masked | None
    rule_version: int | None
    changes: dict[str, list[Any]] = Field(description="field -> [before, after], personal numbers masked")
    fields: list[str] | None = Field(
        default=None,
        description="PersonalDataRead / PersonalDataReadRefused (shown to organisers and auditors): "
        "the personal fields asked for; such an entry changes nothing and carries the version then",
    )

    @field_validator("changes")
    @classmethod
    def _mask_free_text(cls, changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {
            field: [mask_free_text(v) if isinstance(v, str) and field in FREE_TEXT else v for v in values]
            for field, values in changes.items()
        }


class Decide(_Request):
    reason: Lines | None = Field(default=None, max_length=500)
    evidence: Lines | None = Field(default=None, max_length=500)


class Erase(Decide):
    reason: Lines | None = Field(default=None, max_length=500, description="why (required)")


class TrainingAccount(Decide):
    training_account: Line = Field(min_length=1, max_length=100)


class Scores(_Request):
    short_video: float = Field(ge=0, allow_inf_nan=False)
    account_operation: float = Field(ge=0, allow_inf_nan=False)
    livestream_selling: float = Field(ge=0, allow_inf_nan=False)


class Results(Decide):
    scores: Scores


class Advance(Decide):
    role: Line = Field(default="streamer", max_length=16, description="streamer (主播) or assistant (助理)")


class Award(Decide):
    award: Line = Field(min_length=1, max_length=200)


# --- operations -----------------------------------------------------------------


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    last_notification_id: int


# --- imports --------------------------------------------------------------------


class _RefusedInChinese(BaseModel):
    rule: str | None = Field(default=None, description="the refusing rule, e.g. quota_full")

    @computed_field(description="what the refusing rule says, in Chinese, for the clerk")  # type: ignore[prop-decorator]
    @property
    def message(self) -> str | None:
        return rule_message(self.rule) if self.rule else None


class ImportedRow(_RefusedInChinese):
    line: int = Field(description="the row's number in the spreadsheet")
    name: str
    outcome: Literal["created", "unchanged", "refused"]
    detail: str | None = None
    contestant_id: UUID | None = None
    sheet: str | None = Field(default=None, description="the sheet, when the workbook has several")


class ImportedSheet(BaseModel):
    name: str
    outcome: Literal["imported", "skipped"]
    group: str | None = None
    detail: str | None = Field(default=None, description="why a sheet was skipped")


class ImportOut(BaseModel):
    filename: str
    group: str = Field(description="the group of the first imported sheet")
    unit: str | None
    counts: dict[str, int] = Field(description="rows created, unchanged (imported before) and refused")
    rows: list[ImportedRow]
    sheets: list[ImportedSheet] = Field(description="every sheet of the file, imported or skipped and why")


# --- schedule -------------------------------------------------------------------


class ScheduledBoundary(BaseModel):
    code: PhaseCode
    side: Literal["opens", "closes"]
    instant: LocalInstant = Field(description="when the timeline says the boundary passes")
    state: Literal["pending", "done", "late", "overridden", "blocked"]
    by: str | None = Field(default=None, description="scheduler or organiser, once recorded")
    scheduled: LocalInstant | None = None
    actual: LocalInstant | None = Field(default=None, description="when it was recorded")


class ScheduledRetention(BaseModel):
    instant: LocalInstant = Field(description="00:00 Asia/Shanghai, the policy's days after the ceremony")
    erase_after_days: int
    state: Literal["pending", "done", "late"]
    actual: LocalInstant | None = Field(default=None, description="when the scheduler carried it out")
    erased: int | None = Field(default=None, description="how many contestants' data it erased")


class ScheduleOut(BaseModel):
    campaign_id: UUID
    boundaries: list[ScheduledBoundary]
    retention: ScheduledRetention | None = Field(
        default=None, description="the retention policy's boundary, once the ceremony has an end"
    )
    active_instance: str | None = Field(
        description="the scheduler holding the lock, if any: host:pid for admins, an instance name "
        "(scheduler-<8 hex digits>) for every other role"
    )


# --- views ----------------------------------------------------------------------


class ListedContestant(BaseModel):
    """Who a roster line is about, masked."""

    id: UUID
    city: str
    group: str
    channel: str
    name: str
    id_number: str = Field(description="masked, e.g. 420102********1234")
    mobile: str = Field(description="masked, e.g. 138****5678")
    platform: str
    account: str


class RosterEntry(ListedContestant):
    followers: int
    status: str
    training_account: str | None
    results: dict[str, float] | None
    team_role: str | None
    award: str | None
    nominated_at: LocalInstant
    changed_at: LocalInstant
    version: int


class RosterOut(BaseModel):
    total: int
    page: int
    page_size: int
    contestants: list[RosterEntry]


class RosterChange(ListedContestant):
    """One contestant between two instants, masked as on the roster."""

    status_from: str | None = Field(description="the status at `from`; null: not on the roster yet")
    status_to: str = Field(description="the status at `to`")


class RosterDiffOut(BaseModel):
    from_: LocalInstant = Field(alias="from")
    to: LocalInstant
    entered: list[RosterChange] = Field(description="on the roster at `to`, not yet at `from`")
    left: list[RosterChange] = Field(
        description="active at `from`, rejected, withdrawn or disqualified at `to`"
    )
    changed: list[RosterChange] = Field(description="every other change of status, from -> to")
    unchanged: int = Field(description="how many kept their status")


class QuotaEntry(BaseModel):
    city: str
    group: str
    quota: int
    recommended: int = Field(description="active recommended contestants holding a place")
    verified: int
    remaining: int


class CapEntry(BaseModel):
    group: str
    cap: int
    active: int
    remaining: int


class QuotasOut(BaseModel):
    quotas: list[QuotaEntry]
    groups: list[CapEntry]


class FunnelEntry(BaseModel):
    city: str
    group: str
    reached: dict[str, int]
    left: dict[str, int]
    finalists: int


class FunnelOut(BaseModel):
    rows: list[FunnelEntry]
    finalists: int
    trainee_finalists: int
    trainee_share: float | None = Field(description="trainees among finalists (the notice emphasises them)")


class TeamMember(BaseModel):
    id: UUID
    name: str | None = Field(description="absent for leadership, who read aggregates only")


class TeamOut(BaseModel):
    city: str
    version: int = Field(description="the team's version: send it as If-Match to decide on this team")
    leader: str | None
    assistant: TeamMember | None
    streamers: list[TeamMember]
    complete: bool = Field(description="1 leader, 1 assistant and 4 to 6 streamers (6 to 8 people)")
    gaps: list[str] = Field(description="what the team lacks to be complete")
    finals: Literal["entered", "overridden"] | None = Field(
        description="entered for the finals: complete, or incomplete by an organiser's override"
    )
    awards: list[str] = Field(default_factory=list, description="team prizes, e.g. 优秀组织奖")


class TeamsOut(BaseModel):
    teams: list[TeamOut]


class AuditEntryOut(BaseModel):
    notification_id: int
    at: LocalInstant
    event_type: str
    aggregate_type: str
    aggregate_id: str
    version: int
    campaign_id: str | None
    city: str | None = Field(description="the city the decision concerns")
    actor_user: str
    actor_role: str
    actor_city: str | None
    reason: Masked | None
    evidence: Masked | None
    rule_version: int | None
    subject_id: str | None = Field(
        default=None, description="PersonalDataRead / PersonalDataReadRefused: whose data was asked for"
    )
    fields: list[str] | None = Field(
        default=None, description="PersonalDataRead / PersonalDataReadRefused: the fields asked for"
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return value.split(",") if isinstance(value, str) else value


class AuditOut(BaseModel):
    entries: list[AuditEntryOut]
    next_after: int | None = Field(description="pass as `after` for the next page; null at the end")


class LeaderAppointment(_Request):
    name: Line = Field(
        min_length=1, max_length=50, description="the team leader, a staff member of the city bureau"
    )
    staff_user: Line = Field(min_length=1, max_length=64, description="the leader's user id at the bureau")


class FinalsEntry(_Request):
    reason: Lines | None = Field(
        default=None, max_length=500, description="required to enter an incomplete team (organisers only)"
    )


class TeamAward(_Request):
    award: Line = Field(min_length=1, max_length=50, examples=["优秀组织奖"])
    reason: Lines | None = Field(default=None, max_length=500)


class TeamAwardOut(BaseModel):
    city: str
    awards: list[str]


class FinalsEntryOut(BaseModel):
    city: str
    finals: Literal["entered", "overridden"]
    gaps: list[str]


class LeaderOut(BaseModel):
    city: str
    leader: str
    staff_user: str


# --- bulk work ------------------------------------------------------------------


class BulkReview(_Request):
    contestants: list[UUID] = Field(min_length=1, max_length=5000, description="contestant ids")
    reason: Lines | None = Field(default=None, max_length=500, description="one reason for every decision")
    evidence: Lines | None = Field(default=None, max_length=500, description="what every decision rests on")


class BulkRowOut(_RefusedInChinese):
    line: int = Field(description="the item's position in the list, or the row's number in its sheet")
    outcome: Literal["done", "refused"]
    contestant_id: UUID | None = Field(
        default=None,
        description="the contestant decided; on a refusal, the id the list gave (a sheet's row: none)",
    )
    version: int | None = Field(default=None, description="the contestant's version after the decision")
    detail: str | None = None
    sheet: str | None = None
    name: str | None = Field(default=None, description="the row's 姓名 as the sheet gives it, if it has one")


class BulkOut(BaseModel):
    counts: dict[str, int] = Field(description="decisions done and refused")
    rows: list[BulkRowOut]


class RankedOut(BaseModel):
    rank: int
    id: UUID
    version: int = Field(description="the contestant's version the ranking was read at (for If-Match)")
    name: str
    status: str
    team_role: str | None
    total: float
    results: dict[str, float]


class RankingOut(BaseModel):
    city: str
    group: str
    group_title: str
    entries: list[RankedOut]


class RankingsOut(BaseModel):
    rankings: list[RankingOut] = Field(description="per city (附件1's order), trainee group first")
