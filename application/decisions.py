"""The decisions on one contestant as commands, all run by ``CampaignService.decide``.

Adding a decision means: its event and method on ``Contestant``, its move in the lifecycle
table, a command here, and an entry in the route table of ``api/routers/decisions.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.campaign import Campaign
from domain.contestant import Contestant
from domain.decision import DecisionContext
from domain.team import CityTeam, TeamRole


class Teams(Protocol):
    def team_for(self, campaign_id: UUID, city: str, at: datetime) -> CityTeam: ...


#: Lets the contestant decide; returns the other aggregates the decision changed.
Act = Callable[[Contestant, Campaign, DecisionContext, Teams], Sequence[Aggregate]]
Method = Callable[[Contestant, Campaign, DecisionContext], None]


@dataclass(frozen=True)
class ContestantCommand:
    """:ivar leaves: the decision ends the contestant's part, freeing places and team seat.
    :ivar rejoins: the decision brings the contestant back, taking their places again.
    """

    trigger: str
    act: Act
    leaves: bool = False
    rejoins: bool = False


def _alone(method: Method) -> Act:
    def act(
        contestant: Contestant, campaign: Campaign, context: DecisionContext, _: Teams
    ) -> Sequence[Aggregate]:
        method(contestant, campaign, context)
        return ()

    return act


VERIFY = ContestantCommand("verify", _alone(Contestant.verify))
REJECT = ContestantCommand("reject", _alone(Contestant.reject), leaves=True)
RECONSIDER = ContestantCommand("reconsider", _alone(Contestant.reconsider), rejoins=True)
RECORD_TRAINING = ContestantCommand("record_training", _alone(Contestant.record_training))
WITHDRAW = ContestantCommand("withdraw", _alone(Contestant.withdraw), leaves=True)
DISQUALIFY = ContestantCommand("disqualify", _alone(Contestant.disqualify), leaves=True)
#: Not a move of the lifecycle: the status stays, who the person was goes (CampaignService.erase).
ERASE = ContestantCommand("erase", _alone(Contestant.erase))


def assign_training_account(account: str) -> ContestantCommand:
    return ContestantCommand(
        "assign_training_account",
        _alone(
            lambda contestant, campaign, context: contestant.assign_training_account(
                campaign, context, account
            )
        ),
    )


def record_results(scores: dict[str, float]) -> ContestantCommand:
    return ContestantCommand(
        "record_results",
        _alone(lambda contestant, campaign, context: contestant.record_results(campaign, context, scores)),
    )


def award(name: str) -> ContestantCommand:
    return ContestantCommand(
        "award", _alone(lambda contestant, campaign, context: contestant.award_prize(campaign, context, name))
    )


def advance(role: TeamRole = TeamRole.STREAMER) -> ContestantCommand:
    def act(
        contestant: Contestant, campaign: Campaign, context: DecisionContext, teams: Teams
    ) -> Sequence[Aggregate]:
        team = teams.team_for(campaign.id, contestant.city, context.at)
        contestant.advance(campaign, context, team, role)
        return (team,)

    return ContestantCommand("advance", act)
