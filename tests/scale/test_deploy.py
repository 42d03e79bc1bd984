"""The production shape on paper: deploy/docker-compose.yml parses and wires every part
(no Docker engine here), and docs/deployment.md documents every setting there is."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from filedock.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def filedock_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose["services"].items()
        if service.get("image") == "filedock:latest"
    }


def test_compose_has_the_production_shape(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"api", "worker", "migrate", "lb", "mysql", "minio", "rabbitmq", "redis"} <= set(
        services
    )
    assert services["api"]["deploy"]["replicas"] >= 2
    assert services["api"]["command"] == ["filedock", "serve"]
    assert services["worker"]["command"][:2] == ["filedock", "worker"]
    assert services["migrate"]["command"] == ["filedock", "migrate"]
    assert (ROOT / "deploy" / services["api"]["build"]["dockerfile"].split("/")[-1]).exists()
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["lb"]["volumes"]


def test_every_filedock_process_gets_the_distributed_settings(compose: dict[str, Any]) -> None:
    known = {f"FILEDOCK_{name.upper()}" for name in Settings.model_fields}
    for name, service in filedock_services(compose).items():
        env = service["environment"]
        settings = {key for key in env if key.startswith("FILEDOCK_")}
        assert settings <= known, f"{name}: unknown {settings - known}"
        assert env["FILEDOCK_DATABASE_URL"].startswith("mysql://")
        assert env["FILEDOCK_STORAGE_URL"].startswith("s3://")
        assert env["FILEDOCK_BROKER_URL"].startswith("amqp://")
        assert env["FILEDOCK_REDIS_URL"].startswith("redis://")
        assert "FILEDOCK_SECRET_KEY" in env  # replicas must sign links alike
        assert env["FILEDOCK_AUTH"] == "required"  # nobody anonymous beyond loopback
        for dependency in ("mysql", "minio", "rabbitmq", "redis"):
            if name != "migrate":
                assert service["depends_on"][dependency]["condition"] == "service_healthy"
    assert filedock_services(compose)["api"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_every_setting_is_documented() -> None:
    documented = set(
        re.findall(r"`(FILEDOCK_[A-Z0-9_]+)`", (ROOT / "docs" / "deployment.md").read_text())
    )
    settings = {f"FILEDOCK_{name.upper()}" for name in Settings.model_fields}
    assert settings - documented == set()
    assert documented - settings == set()  # nothing documented that does not exist
