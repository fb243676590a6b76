"""Every decision on one contestant: one route each, made from one table.

Each entry keeps its own request model, summary and description in the OpenAPI document;
the plumbing (decision context, idempotency, the answer) is written once.
"""

# No postponed annotations: the endpoints' annotations name each route's own body model.

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from api.concealment import concealed
from api.deps import DecisionDep, IdempotencyDep, ServiceDep
from api.idempotency import rendered
from api.problems import responses
from api.schemas import Advance, Award, ContestantOut, Decide, Results, TrainingAccount
from api.views import contestant_out
from application import decisions
from application.decisions import ContestantCommand
from domain.contestant import Contestant
from domain.team import TeamRole

router = APIRouter(prefix="/api/contestants", tags=["contestants"])

ContestantId = Annotated[UUID, Path(description="the contestant's id")]
WRITE_PROBLEMS = responses(401, 403, 404, 409, 412, 422, 503)


@dataclass(frozen=True)
class DecisionRoute:
    """:ivar command: the command the request body asks for."""

    path: str
    body: type[Decide]
    summary: str
    description: str
    command: Callable[[Any], ContestantCommand]


ROUTES = (
    DecisionRoute("verify", Decide, "Verify", "Organisers confirm eligibility.", lambda _: decisions.VERIFY),
    DecisionRoute(
        "reject",
        Decide,
        "Reject",
        "Organisers refuse eligibility, with a reason; the places are freed.",
        lambda _: decisions.REJECT,
    ),
    DecisionRoute(
        "reconsider",
        Decide,
        "Reconsider a rejection",
        "Organisers take a rejection back during review, with a reason (e.g. the 退役证 was brought); "
        "the person is nominated again and retakes their places under the city quota and group cap.",
        lambda _: decisions.RECONSIDER,
    ),
    DecisionRoute(
        "training-account",
        TrainingAccount,
        "Assign the training account",
        "Organisers assign the training-platform account.",
        lambda body: decisions.assign_training_account(body.training_account),
    ),
    DecisionRoute(
        "trained",
        Decide,
        "Record the training",
        "Judges (or organisers) record that the training is done.",
        lambda _: decisions.RECORD_TRAINING,
    ),
    DecisionRoute(
        "results",
        Results,
        "Record the results",
        "Judges record the scores of the three contest events.",
        lambda body: decisions.record_results(body.scores.model_dump()),
    ),
    DecisionRoute(
        "advance",
        Advance,
        "Advance to the finals",
        "Pick the contestant for the city's finals team.",
        lambda body: decisions.advance(TeamRole.parse(body.role)),
    ),
    DecisionRoute(
        "award", Award, "Award", "Organisers record an award.", lambda body: decisions.award(body.award)
    ),
    DecisionRoute(
        "withdraw",
        Decide,
        "Withdraw",
        "The contestant leaves (recorded by their city or the organisers), with a reason.",
        lambda _: decisions.WITHDRAW,
    ),
    DecisionRoute(
        "disqualify",
        Decide,
        "Disqualify",
        "Organisers disqualify, with a reason.",
        lambda _: decisions.DISQUALIFY,
    ),
)


def _endpoint(route: DecisionRoute) -> Callable[..., JSONResponse]:
    def endpoint(
        id: ContestantId, body: Decide, service: ServiceDep, context: DecisionDep, idem: IdempotencyDep
    ) -> JSONResponse:
        def decide() -> ContestantOut:
            decision = replace(context, reason=body.reason, evidence=body.evidence)
            with concealed(service, context.actor, id):  # 404 alike for unknown and unreadable ids
                version = service.decide(id, route.command(body), decision)
            return contestant_out(service.get_contestant(id, version=version))

        return idem.answer(200, body, decide, rendered(Contestant, contestant_out))

    endpoint.__annotations__["body"] = route.body
    endpoint.__name__ = route.path.replace("-", "_")
    endpoint.__doc__ = route.description
    return endpoint


for _route in ROUTES:
    router.post(
        f"/{{id}}/{_route.path}",
        response_model=ContestantOut,
        responses=WRITE_PROBLEMS,
        summary=_route.summary,
    )(_endpoint(_route))
