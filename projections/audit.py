"""The audit trail: every decision of every aggregate, who took it, why, under which rules.

Exports to CSV and to .xlsx (openpyxl) take the same filters as the query.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

from eventsourcing.domain import DomainEvent

from domain.access import PersonalDataLog
from domain.campaign import Campaign
from domain.contestant import DECISION_EVENTS, Contestant
from domain.decision import Decision
from domain.events import ERASED, DecisionEvent
from domain.registrations import DuplicateRegistration, repeat_reason
from domain.team import CityTeam
from domain.users import User
from domain.values import Actor, Platform, mask_id_number
from projections.base import Handlers, ViewProjection, utc_text
from projections.cells import csv_value, xlsx_row
from projections.store import Tx

#: Decided on the campaign itself, about no city.
_CAMPAIGN_DECISIONS: tuple[type[DecisionEvent], ...] = (
    Campaign.CampaignLaunched,
    Campaign.TimelineAmended,
    Campaign.PhaseOpened,
    Campaign.PhaseClosed,
    Campaign.RetentionSet,
    Campaign.RetentionCarriedOut,
)
#: Decided on a team, about its city.
_TEAM_DECISIONS: tuple[type[DecisionEvent], ...] = (
    CityTeam.LeaderAppointed,
    CityTeam.FinalsEntered,
    CityTeam.TeamAwarded,
)
#: User management, store-wide: recorded without a campaign.
_USER_DECISIONS: tuple[type[DecisionEvent], ...] = (
    User.UserCreated,
    User.UserDisabled,
    User.UserEnabled,
    User.TokenRotated,
)
USER_DECISIONS = tuple(kind.__name__ for kind in _USER_DECISIONS)
#: Reads of a contestant's ID and mobile numbers, granted and refused: who read whose, which fields.
_PERSONAL_DATA_READS: tuple[type[DomainEvent], ...] = (
    PersonalDataLog.PersonalDataRead,
    PersonalDataLog.PersonalDataReadRefused,
)
PERSONAL_DATA_READS = tuple(kind.__name__ for kind in _PERSONAL_DATA_READS)

_AUDITED: tuple[type[DomainEvent], ...] = (
    *_CAMPAIGN_DECISIONS,
    *DECISION_EVENTS,
    *_TEAM_DECISIONS,
    DuplicateRegistration.RegistrationDuplicated,
    *_USER_DECISIONS,
    *_PERSONAL_DATA_READS,
)
#: Every event type on the trail, as the ``type`` filter names them.
AUDITED = tuple(kind.__name__ for kind in _AUDITED)
#: Every aggregate type on the trail (its ``aggregate_type``).
AUDITED_SUBJECTS = tuple(dict.fromkeys(kind.__qualname__.rpartition(".")[0] for kind in _AUDITED))


@dataclass(frozen=True)
class AuditEntry:
    notification_id: int
    at: str  # UTC ISO instant of the decision
    event_type: str
    aggregate_type: str
    aggregate_id: str
    version: int
    campaign_id: str | None
    city: str | None  # the city the decision concerns (contestant's or team's)
    actor_user: str
    actor_role: str
    actor_city: str | None
    reason: str | None
    evidence: str | None
    rule_version: int | None
    subject_id: str | None = None  # a read of personal data: the contestant whose data it was
    fields: str | None = None  # a read of personal data: the fields asked for, comma-separated


@dataclass(frozen=True)
class AuditFilter:
    campaign_id: UUID | None = None
    actor: str | None = None  # user id
    role: str | None = None
    actor_city: str | None = None
    city: str | None = None  # the city concerned
    event_types: Sequence[str] = ()
    aggregate_id: UUID | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


class AuditView(ViewProjection):
    name = "audit"
    # 2: user management and repeated registrations; 3: reads of personal data; 4: erasure;
    # 5: a repeat's reason in words, without the rule's code
    version = 5
    seals = True
    tables = {  # noqa: RUF012
        "audit": "notification_id BIGINT PRIMARY KEY, at TEXT NOT NULL, event_type TEXT NOT NULL, "
        "aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, "
        "campaign_id TEXT, "
        "city TEXT, actor_user TEXT NOT NULL, actor_role TEXT NOT NULL, actor_city TEXT, reason TEXT, "
        "evidence TEXT, rule_version BIGINT, subject_id TEXT, fields TEXT, concerns TEXT",
        "audit_subjects": "aggregate_id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, city TEXT, "
        "subject_id TEXT",
    }
    indexes = {  # noqa: RUF012
        "ix_view_audit_actor": ("audit", "actor_user, notification_id"),
        "ix_view_audit_city": ("audit", "city, notification_id"),
        "ix_view_audit_actor_city": ("audit", "actor_city, notification_id"),
        "ix_view_audit_type": ("audit", "event_type, notification_id"),
        "ix_view_audit_at": ("audit", "at"),
        "ix_view_audit_campaign": ("audit", "campaign_id, notification_id"),
        "ix_view_audit_concerns": ("audit", "concerns"),
    }

    def handlers(self) -> Handlers:
        self._subjects: dict[str, tuple[str, str | None, str | None]] = {}
        found = Handlers()
        for kind in _CAMPAIGN_DECISIONS:
            found.on(kind, self._campaign_decision)
        for kind in DECISION_EVENTS:
            if kind not in (Contestant.Nominated, Contestant.Erased):
                found.on(kind, self._decision)
        for kind in _TEAM_DECISIONS:
            found.on(kind, self._decision)
        for kind in _USER_DECISIONS:
            found.on(kind, self._user_decision)
        return (
            found.on(Contestant.Nominated, self._nominated)
            .on(CityTeam.TeamFormed, self._team_formed)
            .on(DuplicateRegistration.RegistrationDuplicated, self._repeated)
            .on(PersonalDataLog.PersonalDataLogOpened, self._reads_opened)
            .on(PersonalDataLog.PersonalDataRead, self._read)
            .on(PersonalDataLog.PersonalDataReadRefused, self._read)
            .on(Contestant.Erased, self._erased)
        )

    def _erased(self, tx: Tx, e: Contestant.Erased) -> None:
        """What was said about the person goes from the trail; who decided what, and when, stays."""
        tx.shred()
        self._decision(tx, e)
        erased = self.sealer.seal(ERASED)
        tx.execute(
            self.sql(
                "UPDATE {audit} SET reason = CASE WHEN reason IS NULL THEN NULL ELSE ? END, "
                "evidence = CASE WHEN evidence IS NULL THEN NULL ELSE ? END "
                "WHERE concerns = ? AND notification_id < ?"
            ),
            (erased, erased, self.text.id, self.current_id),
        )

    def _repeat_detail(self, tx: Tx, e: DuplicateRegistration.RegistrationDuplicated) -> str:
        """Which number or account was repeated, for the organisers to follow up (masked), while
        the contestant repeated is not erased; the stored reason names nothing personal."""
        if e.matches is None or ERASED in (e.id_number, e.person.get("account")):
            return ""
        erased = tx.fetchone(
            self.sql("SELECT 1 AS x FROM {audit} WHERE concerns = ? AND event_type = 'Erased'"),
            (str(e.matches),),
        )
        if erased is not None:
            return ""
        if e.rule == "duplicate_person":
            return f"；身份证号 {mask_id_number(e.id_number)}"
        return f"；{Platform(e.person['platform']).title}账号 {e.person.get('account')}"

    def _team_formed(self, tx: Tx, e: CityTeam.TeamFormed) -> None:
        self._subject(tx, self.text.id, str(e.campaign_id), e.city)

    def _nominated(self, tx: Tx, e: Contestant.Nominated) -> None:
        self._subject(tx, self.text.id, str(e.campaign_id), e.person.city)
        self._decision(tx, e)

    def _repeated(self, tx: Tx, e: DuplicateRegistration.RegistrationDuplicated) -> None:
        self._subject(tx, self.text.id, str(e.campaign_id), e.person["city"])
        self._decision(tx, e)

    def _reads_opened(self, tx: Tx, e: PersonalDataLog.PersonalDataLogOpened) -> None:
        """The record of reads of a contestant's data concerns that contestant's campaign and city."""
        contestant = str(e.contestant_id)
        campaign_id, city, _ = self._subject_of(tx, contestant, "Contestant")
        self._subject(tx, self.text.id, campaign_id, city, subject_id=contestant)

    def _subject(
        self, tx: Tx, aggregate_id: str, campaign_id: str, city: str | None, *, subject_id: str | None = None
    ) -> None:
        self._subjects[aggregate_id] = (campaign_id, city, subject_id)
        tx.insert(
            self.t["audit_subjects"],
            {
                "aggregate_id": aggregate_id,
                "campaign_id": campaign_id,
                "city": city,
                "subject_id": subject_id,
            },
            row=("audit_subjects", aggregate_id),
        )

    def _subject_of(
        self, tx: Tx, aggregate_id: str, aggregate_type: str
    ) -> tuple[str, str | None, str | None]:
        """A subject's campaign and city never change, so a cache of them cannot go stale."""
        known = self._subjects.get(aggregate_id)
        if known is None:
            row = tx.fetchone(
                self.sql("SELECT campaign_id, city, subject_id FROM {audit_subjects} WHERE aggregate_id = ?"),
                (aggregate_id,),
            )
            if row is None:
                raise LookupError(f"audit: {aggregate_type} {aggregate_id} has no recorded creation")
            known = self._subjects[aggregate_id] = (row["campaign_id"], row["city"], row["subject_id"])
        return known

    def _campaign_decision(self, tx: Tx, e: DecisionEvent) -> None:
        self._write(tx, e, e.decision.actor, e.decision, self.text.id, None)

    def _user_decision(self, tx: Tx, e: DecisionEvent) -> None:
        self._write(tx, e, e.decision.actor, e.decision, None, None)

    def _decision(self, tx: Tx, e: DecisionEvent) -> None:
        """A decision about a contestant, a team or a repeated registration: their campaign and city."""
        campaign_id, city, _ = self._about(tx, e)
        self._write(tx, e, e.decision.actor, e.decision, campaign_id, city)

    def _read(
        self, tx: Tx, e: PersonalDataLog.PersonalDataRead | PersonalDataLog.PersonalDataReadRefused
    ) -> None:
        """Who read (or asked to read) whose personal data, which fields."""
        campaign_id, city, subject_id = self._about(tx, e)
        self._write(tx, e, e.actor, None, campaign_id, city, subject_id=subject_id, fields=e.fields)

    def _about(self, tx: Tx, e: DomainEvent) -> tuple[str, str | None, str | None]:
        aggregate_type = type(e).__qualname__.rpartition(".")[0]
        return self._subject_of(tx, self.text.id, aggregate_type)

    def _write(
        self,
        tx: Tx,
        e: DomainEvent,
        actor: Actor,
        decision: Decision | None,
        campaign_id: str | None,
        city: str | None,
        *,
        subject_id: str | None = None,
        fields: list[str] | None = None,
    ) -> None:
        aggregate_type, _, event_type = type(e).__qualname__.rpartition(".")
        aggregate_id = self.text.id
        reason = decision.reason if decision else None
        concerns = aggregate_id if aggregate_type == "Contestant" else subject_id
        if isinstance(e, DuplicateRegistration.RegistrationDuplicated):
            concerns = str(e.matches) if e.matches else aggregate_id
            # shown from the event's fields: earlier repeats carry the rule's code in their reason
            reason = repeat_reason(e.rule, e.person["platform"], e.matches) + self._repeat_detail(tx, e)
        tx.insert(
            self.t["audit"],
            {
                "notification_id": self.current_id,
                "at": self.text.at,
                "event_type": event_type,
                "aggregate_type": aggregate_type,
                "aggregate_id": aggregate_id,
                "version": e.originator_version,
                "campaign_id": campaign_id,
                "city": city,
                "actor_user": actor.user,
                "actor_role": str(actor.role),
                "actor_city": actor.city,
                "reason": self.sealer.seal(reason),
                "evidence": self.sealer.seal(decision.evidence if decision else None),
                "rule_version": decision.rule_version if decision else None,
                "subject_id": subject_id,
                "fields": ",".join(fields) if fields is not None else None,
                "concerns": concerns,
            },
            row=("audit", self.current_id),
        )

    # --- queries -------------------------------------------------------------

    def entries(self, where: AuditFilter, *, limit: int | None = None, after: int = 0) -> list[AuditEntry]:
        """Entries in log order; ``after`` a notification id pages without overlap."""
        clauses: list[str] = ["notification_id > ?"]
        params: list[Any] = [after]
        columns: list[tuple[str, Any]] = [
            ("campaign_id", str(where.campaign_id) if where.campaign_id else None),
            ("actor_user", where.actor),
            ("actor_role", where.role),
            ("actor_city", where.actor_city),
            ("city", where.city),
            ("aggregate_id", str(where.aggregate_id) if where.aggregate_id else None),
        ]
        for column, value in columns:
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if where.event_types:
            clauses.append(f"event_type IN ({','.join('?' * len(where.event_types))})")
            params += list(where.event_types)
        if where.since is not None:
            clauses.append("at >= ?")
            params.append(utc_text(where.since))
        if where.until is not None:
            clauses.append("at < ?")
            params.append(utc_text(where.until))
        statement = (
            self.sql("SELECT * FROM {audit} WHERE ") + " AND ".join(clauses) + " ORDER BY notification_id"
        )
        if limit is not None:
            statement += " LIMIT ?"
            params.append(limit)
        with self.reading() as tx:
            rows = tx.fetchall(statement, params)
        for r in rows:
            r["reason"], r["evidence"] = self.sealer.open(r["reason"]), self.sealer.open(r["evidence"])
        return [AuditEntry(**{f.name: r[f.name] for f in fields(AuditEntry)}) for r in rows]


HEADER = [f.name for f in fields(AuditEntry)]


def write_csv(entries: Iterable[AuditEntry], out: IO[str]) -> int:
    """CSV with a header row; the number of entries written."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    for entry in entries:
        writer.writerow([csv_value(v) for v in astuple(entry)])
        count += 1
    return count


def write_xlsx(entries: Iterable[AuditEntry], path: Path) -> int:
    """An .xlsx workbook with one sheet ``audit``; the number of entries written."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("audit")
    sheet.append(HEADER)
    count = 0
    for entry in entries:
        sheet.append(xlsx_row(sheet, astuple(entry)))
        count += 1
    workbook.save(path)
    return count
