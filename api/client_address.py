"""The client's address: the socket peer, or what a trusted reverse proxy says it saw.

``X-Forwarded-For`` is only believed from peers in REGISTRY_TRUSTED_PROXIES (default none),
so a caller cannot write a forged address into the audit trail. The chain is read from the
right: each trusted hop is skipped and the first address that is not a trusted proxy is the
client (anything to its left was written by the client itself and proves nothing). An entry
that is not an IP address stops the walk at the trusted hop that passed it on. A trusted
peer's ``X-Forwarded-Proto`` (http or https) sets the scheme, for the dashboard's secure
cookie. uvicorn's own header handling is switched off by ``registry serve``: this replaces it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(entry: str) -> Address | None:
    """An address from a forwarded entry: bare, ``ip:port`` or ``[ipv6]:port``; else None."""
    entry = entry.strip()
    if entry.startswith("["):
        entry = entry[1 : entry.find("]")] if "]" in entry else ""
    elif entry.count(":") == 1:
        entry = entry.split(":", 1)[0]
    try:
        return ipaddress.ip_address(entry)
    except ValueError:
        return None


def _trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_address(peer: str, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client of a request from ``peer`` carrying X-Forwarded-For values ``forwarded``."""
    if not _trusted(_parse(peer), trusted):
        return peer
    client = peer
    chain = [entry for value in forwarded for entry in value.split(",") if entry.strip()]
    for entry in reversed(chain):
        address = _parse(entry)
        if address is None:
            break
        client = str(address)
        if not _trusted(address, trusted):
            break
    return client


class ClientAddressMiddleware:
    """Set the request's client (and scheme) from a trusted proxy's headers, else leave them."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str]) -> None:
        self.app = app
        self.trusted = [ipaddress.ip_network(n, strict=False) for n in trusted_proxies]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        peer = scope.get("client")
        if (
            scope["type"] not in ("http", "websocket")
            or not peer
            or not _trusted(_parse(str(peer[0])), self.trusted)
        ):
            await self.app(scope, receive, send)
            return
        forwarded: list[str] = []
        proto = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                forwarded.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
        scope = dict(scope)
        client = client_address(str(peer[0]), forwarded, self.trusted)
        if client != peer[0]:
            scope["client"] = (client, 0)
        if proto in ("http", "https"):
            scope["scheme"] = proto if scope["type"] == "http" else proto.replace("http", "ws")
        await self.app(scope, receive, send)
