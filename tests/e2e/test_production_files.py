"""The production files say what production needs: checked as text here, by `docker compose` where present."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_image_runs_unprivileged_with_tzdata_and_a_readiness_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "tzdata" in text
    assert "\nUSER zhanyou" in text
    healthcheck = next(line for line in text.splitlines() if line.lstrip().startswith('CMD ["python"'))
    assert "/readyz" in healthcheck
    for package in ("domain", "application", "projections", "api", "scheduler", "cli", "node"):
        assert f"COPY {package} {package}" in text


def test_compose_runs_replicas_that_restart_and_requires_the_secrets() -> None:
    compose = _compose()
    services = compose["services"]
    assert services["api"]["deploy"]["replicas"] == 2
    assert services["scheduler"]["deploy"]["replicas"] == 2
    for name in ("db", "api", "scheduler", "projector"):
        assert services[name]["restart"] == "unless-stopped"
    environment = services["api"]["environment"]
    for secret in ("ZHANYOU_CIPHER_KEY", "ZHANYOU_ID_SECRET", "ZHANYOU_BOOTSTRAP_TOKEN"):
        assert ":?" in environment[secret], f"{secret} must be required, not defaulted"


def _compose_command() -> list[str] | None:
    """``docker compose`` when the plugin answers, else ``docker-compose``, else None."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        probe = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30, check=False)
        if probe.returncode == 0:
            return command
    return None


def test_compose_file_is_valid_where_docker_compose_exists() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither docker compose nor docker-compose is installed")
    env = {
        "ZHANYOU_DB_PASSWORD": "x",
        "ZHANYOU_CIPHER_KEY": "x",
        "ZHANYOU_ID_SECRET": "x",
        "ZHANYOU_BOOTSTRAP_TOKEN": "x",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    done = subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
