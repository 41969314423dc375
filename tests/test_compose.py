"""docker-compose.yml cannot run here (no Docker engine), so CI checks that it is consistent with the code: every
service the local runner starts is there with its app, database, settings and gateway route; every variable it
sets is one the code reads; no two services claim a host port."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.local.run import SERVICES, Service
from services.events.settings import EventsSettings
from services.funding.settings import FundingSettings
from services.members.settings import MembersSettings
from services.notifications.settings import NotificationsSettings
from shared.settings import ServiceSettings
from web.settings import WebSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS: dict[str, type[ServiceSettings]] = {
    "members": MembersSettings,
    "events": EventsSettings,
    "funding": FundingSettings,
    "notifications": NotificationsSettings,
}


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_every_service_runs_its_app_on_its_own_database(service: Service) -> None:
    declared = COMPOSE["services"][service.name]
    environment = declared["environment"]
    assert environment["SERVICE_APP"] == service.app_factory
    assert declared["build"]["dockerfile"] == "deploy/docker/Dockerfile", "one Dockerfile pattern for all"
    database = environment[f"{service.env_prefix}DATABASE_URL"].rsplit("/", 1)[1]
    assert database == service.name
    assert f"CREATE DATABASE {service.name};" in (ROOT / "deploy/docker/create-databases.sql").read_text()
    assert environment[f"{service.env_prefix}KAFKA_BOOTSTRAP_SERVERS"] == "kafka:19092"
    assert {"kafka", "postgres"} <= set(declared["depends_on"])


@pytest.mark.parametrize("service", SERVICES, ids=lambda service: service.name)
def test_every_variable_set_is_one_the_service_reads(service: Service) -> None:
    fields = set(SETTINGS[service.name].model_fields)
    for name in COMPOSE["services"][service.name]["environment"]:
        if name == "SERVICE_APP":
            continue
        assert name.startswith(service.env_prefix), name
        assert name.removeprefix(service.env_prefix).lower() in fields, f"{name} is read by nothing"
    if service.name != "members":
        assert f"{service.env_prefix}JWKS_URL" in COMPOSE["services"][service.name]["environment"]


def test_the_gateway_routes_to_every_service_with_every_variable_its_template_needs() -> None:
    gateway = COMPOSE["services"]["gateway"]
    template = (ROOT / "deploy/gateway/filiera.conf.template").read_text()
    needed = set(re.findall(r"\$\{(FILIERA_[A-Z_]+)\}", template))
    assert needed == set(gateway["environment"])
    for service in SERVICES:
        assert gateway["environment"][f"FILIERA_{service.name.upper()}_UPSTREAM"] == f"{service.name}:8000"
        assert f"location /api/{service.name}/" in template
    mounted = {volume.split(":")[0] for volume in gateway["volumes"]}
    assert {
        "./deploy/gateway/filiera.conf.template",
        "./deploy/gateway/preflight.conf",
        "./deploy/gateway/docs.html",
    } <= mounted


def test_the_web_client_runs_behind_the_gateway_which_believes_its_forwarded_addresses_only() -> None:
    web = COMPOSE["services"]["web"]
    assert web["build"]["dockerfile"] == "web/Dockerfile"
    assert "ports" not in web, "people reach the web client through the gateway"
    fields = set(WebSettings.model_fields)
    for name in web["environment"]:
        assert name.startswith("WEB_") and name.removeprefix("WEB_").lower() in fields, f"{name} is read by nothing"
    assert web["environment"]["WEB_GATEWAY_URL"] == "http://gateway:8080"
    gateway = COMPOSE["services"]["gateway"]["environment"]
    assert gateway["FILIERA_WEB_UPSTREAM"] == "web:8000"
    assert gateway["FILIERA_WEB_CLIENT_ADDRESS"] == web["networks"]["default"]["ipv4_address"]
    assert "web" in COMPOSE["services"]["gateway"]["depends_on"]


def test_no_two_containers_claim_a_host_port() -> None:
    ports = [port.split(":")[0] for declared in COMPOSE["services"].values() for port in declared.get("ports", [])]
    assert len(ports) == len(set(ports))
    assert COMPOSE["services"]["gateway"]["ports"] == ["8080:8080"]
