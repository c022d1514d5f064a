"""Forged X-Forwarded-For: the audit trail's client address is the socket peer, unless a proxy.

The attack: a caller sends ``X-Forwarded-For: 203.0.113.7`` and the trail records that as its
address (uvicorn's own proxy handling trusts the header from loopback). Now only peers in
REGISTRY_TRUSTED_PROXIES may name the client, and the client is the rightmost address of the
chain that is not itself a trusted proxy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from registry.core.settings import Settings
from tests.factories import PASSWORD, make_user
from tests.faults.server import Server

PROXY = "127.0.0.2"  # a second loopback address: the "reverse proxy" of these tests


@pytest.fixture
def server(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Server]:
    """`registry serve` (as deployed) trusting only PROXY; a user to sign in as."""
    make_user(engine, "walker", ["analyst"], ["*"])
    live = Server(
        database_url,
        tmp_path / "server.log",
        REGISTRY_TRUSTED_PROXIES=json.dumps([f"{PROXY}/32"]),
    )
    live.start()
    yield live
    live.terminate()


def _sign_in(base: str, forwarded: str | None, local_address: str = "127.0.0.1") -> str:
    """Sign in from ``local_address``; the request id of the answer."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    transport = httpx.HTTPTransport(local_address=local_address)
    with httpx.Client(base_url=base, transport=transport, timeout=30) as http:
        response = http.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "walker", "password": PASSWORD},
            headers=headers,
        )
    assert response.status_code == 200, response.text
    return response.headers["x-request-id"]


def _address(engine: Engine, request_id: str) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(
            text(
                "SELECT client_address FROM audit_event "
                "WHERE request_id = :r AND action = 'auth.login'"
            ),
            {"r": request_id},
        ).scalar_one()
    return None if value is None else str(value)


def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    server: Server, engine: Engine
) -> None:
    forged = _sign_in(server.base, "203.0.113.7")
    assert _address(engine, forged) == "127.0.0.1"
    spoofed_proxy = _sign_in(server.base, f"203.0.113.7, {PROXY}")
    assert _address(engine, spoofed_proxy) == "127.0.0.1"


def test_a_trusted_proxy_names_the_rightmost_untrusted_address(
    server: Server, engine: Engine
) -> None:
    # the client prepended a forged hop; the proxy appended the address it saw
    chained = _sign_in(server.base, "198.51.100.1, 203.0.113.7", PROXY)
    assert _address(engine, chained) == "203.0.113.7"
    # a trusted hop on the right is skipped, the address before it is the client
    via_two = _sign_in(server.base, f"203.0.113.8, {PROXY}", PROXY)
    assert _address(engine, via_two) == "203.0.113.8"
    # no header: the proxy itself is the client
    direct = _sign_in(server.base, None, PROXY)
    assert _address(engine, direct) == PROXY


def _peer_address(engine: Engine, settings: Settings, peer: str, forwarded: str) -> str | None:
    app = create_app(engine, settings)
    with TestClient(app, client=(peer, 40000)) as client:
        response = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "walker", "password": PASSWORD},
            headers={"X-Forwarded-For": forwarded},
        )
    assert response.status_code == 200, response.text
    return _address(engine, response.headers["x-request-id"])


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7, 10.1.2.3, 10.9.9.9", "203.0.113.7"),  # trusted hops skipped
        ("10.1.2.3", "10.1.2.3"),  # every hop trusted: the leftmost
        ("not-an-address, 203.0.113.7", "203.0.113.7"),
        ("203.0.113.7, not-an-address", "10.0.0.5"),  # garbage: stop at the proxy that sent it
        ("[2001:db8::1]:443, 10.1.2.3", "2001:db8::1"),
        ("203.0.113.7:5555", "203.0.113.7"),
        ("", "10.0.0.5"),
    ],
)
def test_the_chain_is_read_from_the_right(
    engine: Engine, settings: Settings, forwarded: str, expected: str
) -> None:
    make_user(engine, "walker", ["analyst"], ["*"])
    trusting = settings.model_copy(update={"trusted_proxies": ["10.0.0.0/8"]})
    assert _peer_address(engine, trusting, "10.0.0.5", forwarded) == expected


def test_without_trusted_proxies_the_peer_is_the_client(engine: Engine, settings: Settings) -> None:
    make_user(engine, "walker", ["analyst"], ["*"])
    assert _peer_address(engine, settings, "10.0.0.5", "203.0.113.7") == "10.0.0.5"


def test_a_trusted_proxy_must_be_a_network() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies=["not a network"])
