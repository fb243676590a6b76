"""The pages in a real browser: Debian's Chromium driven by Playwright, against `zhanyou serve`.

Chromium comes from the Debian package (``./test.sh`` installs it as root when missing; see
``scripts/browser.sh``); Playwright never downloads a browser of its own. Without Chromium the
browser tests are skipped with a message, except in CI (``CI=true``), where they must run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.timeline import SHANGHAI
from tests.conftest import BACKENDS, fresh_schema
from tests.drills.processes import PG_KEYS

ZHANYOU = str(Path(sys.executable).parent / "zhanyou")
BOOTSTRAP = "e2e-pages-bootstrap-token-0123456789"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
VIEWPORTS = {"desktop": (1440, 900), "phone": (390, 844)}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("ZHANYOU_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def _missing(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests must run in CI: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason} (./test.sh installs Chromium with apt when run as root)")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        _missing("Debian's chromium package is not installed (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Site:
    """A running `zhanyou serve`, a campaign whose registration channels are open now, its users."""

    base_url: str
    backend: str
    campaign_id: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # the server's, for `zhanyou` commands on its store

    def command(self, *args: str) -> str:
        """Run a `zhanyou` command on the site's store; its output."""
        done = subprocess.run(
            [ZHANYOU, *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def url(self, path: str) -> str:
        return self.base_url + path

    def page(self, name: str) -> str:
        return self.url(f"/c/{self.campaign_id}/{name}")

    def call(self, method: str, path: str, token: str = BOOTSTRAP, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return httpx.request(method, self.url(path), headers=headers, timeout=30, **kwargs)

    def head(self) -> int:
        position: int = httpx.get(self.url("/readyz"), timeout=10).json()["last_notification_id"]
        return position

    def view(self, path: str, token: str = BOOTSTRAP) -> Any:
        """A view's JSON once it has caught up with everything written so far."""
        separator = "&" if "?" in path else "?"
        answer = self.call("GET", f"{path}{separator}min_position={self.head()}", token)
        assert answer.status_code == 200, answer.text
        return answer.json()


def _serve(env: dict[str, str], log: Path, *extra: str) -> Iterator[str]:
    """The server's output goes to ``log``: a pipe nobody reads would stall it once full."""
    port = _free_port()
    output = log.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [ZHANYOU, "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"zhanyou serve did not come up:\n{log.read_text(encoding='utf-8')}")
        time.sleep(0.1)  # the process is starting; there is no position to wait on yet
    try:
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


def _prepare(site: Site) -> None:
    """Launch so that today is 20 days in (registration and recommendation open), open self-registration."""
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    launched = site.call(
        "POST",
        "/api/campaigns",
        json={
            "name": f"战友杯 e2e {site.backend}",
            "template": "hubei-2021",
            "start": (today - timedelta(days=20)).isoformat(),
        },
    )
    assert launched.status_code == 201, launched.text
    site.campaign_id = launched.json()["id"]
    opened = site.call(
        "POST",
        f"/api/campaigns/{site.campaign_id}/phases/self_registration/open",
        json={"reason": "公众号发布报名链接"},
    )
    assert opened.status_code == 200, opened.text
    for username, role, city in (
        ("wuhan-staff", "city_staff", "武汉市"),
        ("leader-1", "leader", None),
        ("auditor-1", "auditor", None),
        ("organiser-1", "admin", None),
        ("judge-1", "judge", None),
    ):
        created = site.call("POST", "/api/users", json={"username": username, "role": role, "city": city})
        assert created.status_code == 201, created.text
        site.tokens[role] = created.json()["token"]


@pytest.fixture(scope="module", params=BACKENDS)
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHANYOU_")}
    env |= {"ZHANYOU_BOOTSTRAP_TOKEN": BOOTSTRAP, "ZHANYOU_REGISTRATION_RATE": "1000"}
    with contextlib.ExitStack() as stack:
        extra: tuple[str, ...] = ()
        if request.param == "postgres":
            dsn: str = request.getfixturevalue("pg_dsn")
            schema = stack.enter_context(fresh_schema(dsn))
            env |= {"ZHANYOU_DATABASE_URL": dsn, "ZHANYOU_DATABASE_SCHEMA": schema, **PG_KEYS}
            extra = ("--projections", "--no-scheduler")
        else:
            env["ZHANYOU_DATABASE_URL"] = f"sqlite:///{tmp_path_factory.mktemp('pages') / 'events.db'}"
        log = tmp_path_factory.mktemp("serve") / "serve.log"
        base_url = stack.enter_context(contextlib.contextmanager(_serve)(env, log, *extra))
        site = Site(base_url, request.param, env=env)
        _prepare(site)
        yield site


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (no cookies), in Chinese, on Beijing time, at desktop size."""
    width, height = VIEWPORTS["desktop"]
    ctx = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    errors: list[str] = []
    ctx.on("weberror", lambda error: errors.append(str(error.error)))
    try:
        yield ctx
    finally:
        ctx.close()
    assert not errors, f"script errors on the page: {errors}"


def sign_in(page: Any, site: Site, token: str, target: str) -> None:
    """Open a staff page, get sent to sign in, paste the token once, come back to that page."""
    page.goto(site.url(target))
    assert "/signin?next=" in page.url, page.url
    page.get_by_label("访问令牌").fill(token)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(site.url(target))


def shoot(page: Any, name: str) -> None:
    """The page at desktop and phone size, whole, under screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for size, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{size}-{width}x{height}.png"), full_page=True)
    width, height = VIEWPORTS["desktop"]
    page.set_viewport_size({"width": width, "height": height})
