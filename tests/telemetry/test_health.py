"""``/healthz`` and ``/readyz`` on every service, against a PostgreSQL that stops and restarts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_up_and_demo import free_port
from tests.executor.conftest import wait_for
from tests.telemetry.services import Services, probe
from workq_core.errors import TransportError
from workq_pulsar import PulsarSettings
from workq_pulsar.transport import PulsarTransport


@pytest.fixture
def services_on_private_pg(private_pg, tmp_path, lite_broker) -> Iterator[Services]:
    name = private_pg.server.create_database("workq_ready")
    broker = {"PULSAR_SERVICE_URL": lite_broker.url, "WORKQ_PULSAR_LITE_SHIM": "true"}
    services = Services.start(tmp_path / "services", private_pg.server.url(name), broker)
    yield services
    services.stop()


def test_readyz_turns_unready_when_postgres_stops_and_ready_after_it_restarts(
    services_on_private_pg: Services, private_pg
) -> None:
    ports = services_on_private_pg.http_ports()
    # Given every service alive and ready, with the checks each one needs
    for service, port in ports.items():
        assert probe(port, "/healthz") == (200, {"status": "alive"}), service
        status, body = probe(port, "/readyz")
        assert (status, body["status"]) == (200, "ready"), (service, body)
    assert set(probe(ports["auth"], "/readyz")[1]["checks"]) == {"database"}
    assert set(probe(ports["jobs"], "/readyz")[1]["checks"]) == {"database", "broker", "auth"}
    assert set(probe(ports["executor"], "/readyz")[1]["checks"]) == {"database", "broker"}

    # When PostgreSQL stops
    private_pg.stop()

    # Then each service is still alive but unready, naming the database
    for service, port in ports.items():
        assert probe(port, "/healthz")[0] == 200, service
        status, body = probe(port, "/readyz")
        assert (status, body["status"]) == (503, "unready"), (service, body)
        assert body["checks"]["database"].startswith("unavailable ("), (service, body)
        assert all(v == "ok" for k, v in body["checks"].items() if k != "database"), body

    # When it is back, each service is ready again without a restart
    private_pg.start()
    for port in ports.values():
        wait_for(lambda port=port: probe(port, "/readyz")[0] == 200, timeout_s=30)


def test_jobs_service_is_unready_while_the_auth_service_is_unreachable(
    tmp_path, lite_broker
) -> None:
    # Given a jobs service pointed at an auth gRPC address nobody listens on
    nobody = free_port()
    broker = {"PULSAR_SERVICE_URL": lite_broker.url, "WORKQ_PULSAR_LITE_SHIM": "true"}
    services = Services.start(
        tmp_path / "services",
        f"sqlite:///{tmp_path / 'workq.db'}",
        broker,
        WORKQ_JOBS_AUTH_GRPC=f"127.0.0.1:{nobody}",
    )
    try:
        # Then it is alive, and unready because of the auth service only
        status, body = probe(services.ports["jobs"], "/readyz")
        assert status == 503, body
        assert body["checks"]["database"] == "ok" and body["checks"]["broker"] == "ok"
        assert body["checks"]["auth"] == "unavailable (Unavailable)"
        # the address it could not reach is in the service's log, not in the answer
        assert f"auth service at 127.0.0.1:{nobody} is not reachable" in services.log("jobs")
        assert probe(services.ports["jobs"], "/healthz")[0] == 200
    finally:
        services.stop()


def test_pulsar_transport_readiness_names_an_unreachable_broker(tmp_path) -> None:
    port = free_port()
    transport = PulsarTransport(PulsarSettings(service_url=f"pulsar://127.0.0.1:{port}"), tmp_path)
    try:
        with pytest.raises(TransportError, match=f"pulsar://127.0.0.1:{port} is not reachable"):
            transport.check_ready()
    finally:
        transport.close()
