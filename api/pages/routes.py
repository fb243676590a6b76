"""The pages: server-rendered Jinja2 templates over the same application and views as the JSON routes.

The templates lay out what the application answers; every rule stays in the domain. Scripts
(``static/js``) fetch the JSON API with the page session's cookie and CSRF token.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, FastAPI, Form, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from api import messages_zh
from api.auth import authenticate
from api.config import ApiSettings
from api.deps import Now, ServiceDep
from api.pages import session
from api.pages.report import daily_report
from api.problems import http_problem, refused, status_of
from api.readmodel import ViewsDep
from api.views import campaign_out
from application.errors import ApplicationError, NotFound
from application.service import CampaignService
from domain.errors import DomainError
from domain.timeline import SHANGHAI, PhaseCode
from domain.values import CITY_QUOTAS, Actor

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)

# Scripts, styles, images and requests only from this origin: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def shanghai(instant: datetime | str | None, with_time: bool = True) -> str:
    """An instant as Asia/Shanghai wall time, e.g. 2021-05-25 10:00."""
    if instant is None:
        return "—"
    if isinstance(instant, str):
        instant = datetime.fromisoformat(instant)
    local = instant.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def until(instant: datetime | None) -> str:
    """An exclusive end as people say it: 2021-06-11 00:00 is 2021-06-10 24:00."""
    if instant is None:
        return "不限"
    local = instant.astimezone(SHANGHAI)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local - timedelta(days=1)).strftime('%Y-%m-%d')} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")


templates.env.filters["shanghai"] = shanghai
templates.env.filters["until"] = until
templates.env.globals["labels"] = messages_zh


def _actor(request: Request, service: CampaignService) -> Actor | None:
    token = request.cookies.get(session.SESSION_COOKIE)
    opened = session.signer_of(request).open(token) if token else None
    if opened is None:
        return None
    settings: ApiSettings = request.app.state.api_settings
    bootstrap = settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
    clock = request.app.state.clock
    return authenticate(service, opened, bootstrap, clock())


def _render(
    request: Request, template: str, context: dict[str, Any], *, status: int = 200, private: bool = True
) -> HTMLResponse:
    csrf = session.csrf_of(request) or session.new_csrf()
    catalogue = json.dumps(messages_zh.catalogue(), ensure_ascii=False).replace("</", "<\\/")
    response = templates.TemplateResponse(
        request,
        template,
        {"csrf": csrf, "catalogue": Markup(catalogue), "cities": list(CITY_QUOTAS), **context},  # noqa: S704 - JSON with "</" escaped
        status_code=status,
    )
    if session.csrf_of(request) != csrf:
        session.set_csrf_cookie(request, response, csrf)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if private:
        response.headers["Cache-Control"] = "no-store"
    return response


#: A campaign in a page's address: any text, so that a mistyped one gets the page saying so in
#: Chinese rather than the API's 422.
PageCampaign = Annotated[str, PathParam(max_length=100)]


def _campaign_id(cid: str) -> UUID:
    try:
        return UUID(cid)
    except ValueError:
        raise NotFound(f"no campaign {cid[:40]!r}") from None


def _campaign_context(service: CampaignService, cid: UUID, now: datetime) -> dict[str, Any]:
    campaign = campaign_out(service.get_campaign(cid), now)
    return {"cid": str(cid), "campaign": campaign}


def _signin_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/signin?next={target}", status_code=303)


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never another origin (``//host``, ``https://...``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/", response_class=HTMLResponse)
def home(request: Request, service: ServiceDep, views: ViewsDep) -> HTMLResponse:
    campaigns = []
    for cid in views.quotas.campaign_ids():
        try:
            campaigns.append({"id": str(cid), "name": service.get_campaign(cid).name})
        except NotFound:
            continue
    return _render(request, "home.html", {"campaigns": campaigns, "me": _actor(request, service)})


@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, service: ServiceDep, next: str | None = None) -> HTMLResponse:
    return _render(request, "signin.html", {"next": _safe_next(next), "me": _actor(request, service)})


@router.post("/signin", response_class=HTMLResponse, response_model=None)
def signin(
    request: Request,
    service: ServiceDep,
    token: Annotated[str, Form(max_length=400)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    session.check_csrf(request, csrf)
    settings: ApiSettings = request.app.state.api_settings
    bootstrap = settings.bootstrap_token.get_secret_value() if settings.bootstrap_token else None
    actor = authenticate(service, token.strip(), bootstrap, request.app.state.clock())
    if actor is None:
        context = {"next": _safe_next(next), "me": None, "error": messages_zh.rule_message("unauthenticated")}
        return _render(request, "signin.html", context, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    session.sign_in(request, response, token.strip())
    return response


@router.post("/signout", response_model=None)
def signout(request: Request, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    session.check_csrf(request, csrf)
    response = RedirectResponse("/", status_code=303)
    session.sign_out(response)
    return response


@router.get("/c/{cid}/register", response_class=HTMLResponse, response_model=None)
def register_page(request: Request, cid: PageCampaign, service: ServiceDep, now: Now) -> Response:
    try:
        context = _campaign_context(service, _campaign_id(cid), now)
    except (DomainError, ApplicationError) as error:
        return _refusal_page(request, error, None)
    window = context["campaign"].timeline[PhaseCode.SELF_REGISTRATION.value]
    context |= {"window": window, "me": None, "public": True}
    return _render(request, "register.html", context, private=False)


def _accepts_html(request: Request) -> bool:
    """Whether the client takes HTML: no Accept, or one naming text/html, text/* or */* with q above 0."""
    accept = request.headers.get("accept")
    if accept is None:
        return True
    for entry in accept.split(","):
        media, *parameters = entry.split(";")
        if media.strip().lower() not in ("text/html", "text/*", "*/*"):
            continue
        q = next((p.split("=", 1)[1].strip() for p in parameters if p.strip().lower().startswith("q=")), "1")
        try:
            if float(q) > 0:
                return True
        except ValueError:
            continue
    return False


def _refusal_page(request: Request, error: DomainError | ApplicationError, me: Actor | None) -> Response:
    """A refusal as a page in Chinese, with the status the API would give; problem+json to a
    client that does not take HTML (``Accept: application/json``)."""
    if not _accepts_html(request):
        return refused(request, error)
    text = messages_zh.rule_message(error.rule)
    return _render(request, "error.html", {"error": text, "me": me, "cid": None}, status=status_of(error))


def _staff_page(
    request: Request, cid: str, service: CampaignService, now: datetime, template: str, **extra: Any
) -> Response:
    me = _actor(request, service)
    if me is None:
        return _signin_redirect(request)
    try:
        context = _campaign_context(service, _campaign_id(cid), now)
        return _render(request, template, {**context, "me": me, **extra})
    except (DomainError, ApplicationError) as error:
        return _refusal_page(request, error, me)


@router.get("/c/{cid}/dashboard", response_class=HTMLResponse, response_model=None)
def dashboard_page(request: Request, cid: PageCampaign, service: ServiceDep, now: Now) -> Response:
    return _staff_page(request, cid, service, now, "dashboard.html")


@router.get("/c/{cid}/console", response_class=HTMLResponse, response_model=None)
def console_page(request: Request, cid: PageCampaign, service: ServiceDep, now: Now) -> Response:
    return _staff_page(request, cid, service, now, "console.html")


@router.get("/c/{cid}/audit", response_class=HTMLResponse, response_model=None)
def audit_page(
    request: Request, cid: PageCampaign, service: ServiceDep, now: Now, contestant: UUID | None = None
) -> Response:
    return _staff_page(
        request, cid, service, now, "audit.html", contestant=str(contestant) if contestant else ""
    )


@router.get("/c/{cid}/report", response_class=HTMLResponse, response_model=None)
def report_page(
    request: Request, response: Response, cid: PageCampaign, service: ServiceDep, views: ViewsDep, now: Now
) -> Response:
    """The printable daily report, rendered on the server from the same routes the dashboard reads."""
    me = _actor(request, service)
    if me is None:
        return _signin_redirect(request)
    try:
        campaign_id = _campaign_id(cid)
        report = daily_report(request, response, campaign_id, service, views, me, now)
        context = {**_campaign_context(service, campaign_id, now), "me": me, "report": report}
    except (DomainError, ApplicationError) as error:
        return _refusal_page(request, error, me)
    return _render(request, "report.html", context)


def _wants_page(request: Request) -> bool:
    """A browser asking for a page: not an API path, and HTML among what it accepts."""
    path = request.url.path
    api_path = path == "/api" or path.startswith("/api/")
    return not api_path and "text/html" in request.headers.get("accept", "").lower()


def install(app: FastAPI) -> None:
    app.include_router(router)

    async def not_found(request: Request, error: Exception) -> Response:
        """A mistyped page address (``/c/<campaign>/registr``) gets the page saying so in Chinese."""
        assert isinstance(error, StarletteHTTPException)  # noqa: S101 - registered for these only
        if error.status_code == 404 and _wants_page(request):
            return _refusal_page(request, NotFound(f"no page {request.url.path[:100]!r}"), None)
        return await http_problem(request, error)

    app.add_exception_handler(StarletteHTTPException, not_found)
    # compressed: the vendored ECharts is 1.1 MB as published, about a third of that gzipped
    app.mount(
        "/static", GZipMiddleware(StaticFiles(directory=HERE / "static"), minimum_size=1024), name="static"
    )
