"""The container files: docker-compose.yml, Dockerfile, .dockerignore and .env.sample.

No Docker engine is needed: Compose only validates the file, and the rest is read as
text or YAML.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = ("web", "scheduler")
# rq's default job timeout in RQ_QUEUES: a stopping worker may take this long.
LONGEST_JOB_SECONDS = 360


def compose_command() -> list[str] | None:
    """Return the Compose CLI of this machine, standalone or plugin, or None."""
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    return None


def run_compose_config(
    tmp_path: Path,
    extra_env: dict[str, str],
) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        pytest.skip("neither docker-compose nor the docker compose plugin is installed")
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | extra_env
    # An empty env file keeps a developer's .env out of the result.
    env_file = tmp_path / "empty.env"
    env_file.touch()
    files = ["--env-file", str(env_file), "-f", str(COMPOSE_FILE)]
    return subprocess.run(
        [*command, *files, "config", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def with_defaults(value: str) -> str:
    """Expand ``${NAME:-default}`` the way Compose does when NAME is unset."""
    return re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", value)


def seconds(duration: str) -> int:
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert parts and duration, f"not a Compose duration: {duration!r}"
    hours, minutes, secs = (int(part or 0) for part in parts.groups())
    return hours * 3600 + minutes * 60 + secs


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def worker_services(services: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [spec for name, spec in services.items() if name.startswith("worker")]


def test_compose_config__valid(tmp_path: Path) -> None:
    result = run_compose_config(tmp_path, {"SECRET_KEY": "test-only-not-a-secret"})

    assert result.returncode == 0, result.stderr


def test_compose_config__refuses_missing_secret_key(tmp_path: Path) -> None:
    result = run_compose_config(tmp_path, {})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_compose__runs_every_process(services: dict[str, dict[str, Any]]) -> None:
    assert {"redis", "postgres", "web", "scheduler"} <= services.keys()
    workers = worker_services(services)
    replicas = sum(spec.get("deploy", {}).get("replicas", 1) for spec in workers)
    assert replicas >= 2
    for spec in workers:
        assert spec["command"][-3:] == ["rqworker", "default", "another"]
    assert services["scheduler"]["command"][-1] == "rqscheduler"


def test_compose__redis_persists_append_only(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]

    assert redis["image"].startswith("redis:7")
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    volume, target = redis["volumes"][0].split(":")[:2]
    assert target == "/data"
    assert volume in compose["volumes"]


def test_compose__postgres_keeps_data_in_named_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]

    assert postgres["image"].startswith("postgres:16")
    volume, target = postgres["volumes"][0].split(":")[:2]
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]


@pytest.mark.parametrize(
    ("service", "probe"),
    [("redis", "redis-cli"), ("postgres", "pg_isready"), ("web", "/health")],
)
def test_compose__healthcheck(
    services: dict[str, dict[str, Any]],
    service: str,
    probe: str,
) -> None:
    test = services[service]["healthcheck"]["test"]

    assert test[0] in {"CMD", "CMD-SHELL"}
    assert probe in " ".join(test)


def test_compose__web_migrates_then_serves_on_5000(
    services: dict[str, dict[str, Any]],
) -> None:
    web = services["web"]
    command = " ".join(web["command"])

    assert "5000:5000" in web["ports"]
    assert command.index("migrate --noinput") < command.index("gunicorn")
    assert "0.0.0.0:5000" in command


def test_compose__app_waits_for_healthy_dependencies(
    services: dict[str, dict[str, Any]],
) -> None:
    app = [services[name] for name in APP_SERVICES] + worker_services(services)
    for spec in app:
        for dependency in ("redis", "postgres"):
            assert spec["depends_on"][dependency]["condition"] == "service_healthy"
    for spec in [services["scheduler"], *worker_services(services)]:
        assert spec["depends_on"]["web"]["condition"] == "service_healthy"


def test_compose__app_environment(services: dict[str, dict[str, Any]]) -> None:
    for spec in [services[name] for name in APP_SERVICES] + worker_services(services):
        env = spec["environment"]
        assert env["DEBUG"] == "0"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        hosts = with_defaults(env["ALLOWED_HOSTS"]).split(",")
        assert {"localhost", "127.0.0.1", "web"} <= set(hosts)


def test_compose__workers_shut_down_warm(services: dict[str, dict[str, Any]]) -> None:
    for spec in worker_services(services):
        assert spec["stop_signal"] == "SIGTERM"
        assert seconds(spec["stop_grace_period"]) > LONGEST_JOB_SECONDS


def test_env_sample__documents_every_setting_variable() -> None:
    settings_source = (ROOT / "backtick_site" / "settings.py").read_text()
    read = set(re.findall(r"(?:environ\.get|env_flag)\(\s*\"(\w+)\"", settings_source))
    lines = (ROOT / ".env.sample").read_text().splitlines()
    documented = {line.split("=", 1)[0] for line in lines if re.match(r"^\w+=", line)}

    assert read, "no environment variable found in settings"
    assert read <= documented
    for index, line in enumerate(lines):
        if re.match(r"^\w+=", line):
            assert lines[index - 1].startswith("# "), f"{line!r} has no comment"


def test_dockerfile__slim_non_root_with_static_files() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert "collectstatic --noinput" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile


def test_dockerignore__keeps_local_state_out() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert {".venv", "var", ".git", ".pytest_cache", "test-output"} <= patterns
