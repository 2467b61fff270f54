"""Which addresses CVX may call: no SSRF into the company's own network.

A target must be `https://`; plain `http://` only to a loopback address and
only where loopback is allowed (DEBUG, or CVX_WEBHOOK_ALLOW_LOOPBACK for
tests). Every address the host name resolves to must be public: private,
loopback (unless allowed), link-local (cloud metadata), multicast, reserved,
shared and unspecified addresses are refused. The same check runs when a
target is saved in the admin and when it is called, after resolution, and
the call then connects to the address that was checked (a DNS answer that
changes between the two cannot move it inside)."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from cvx_site.errors import InvalidInput


class UnsafeTarget(InvalidInput):
    """The URL may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written: the TLS server name and the Host header
    port: int
    path: str  # path and query, never empty
    address: str  # the checked IP address to connect to


def loopback_allowed() -> bool:
    return bool(settings.DEBUG or settings.CVX_WEBHOOK_ALLOW_LOOPBACK)


def address_refusal(address: str) -> str | None:
    """Why this IP address may not be called, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if loopback_allowed() else f"{ip} is a loopback address"
    for flag, words in (
        ("is_unspecified", "an unspecified address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    ):
        if getattr(ip, flag):
            return f"{ip} is {words}"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def _split(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"The URL is not valid ({exc}).", field="url") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeTarget("The URL must start with https://.", field="url")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host.", field="url")
    if parts.username or parts.password:
        raise UnsafeTarget("The URL may not carry a user name or password.", field="url")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), path


def resolve(url: str) -> Target:
    """The target to call for `url`, every address of its host checked.
    Raises UnsafeTarget (field `url`) naming the reason when it may not be
    called: scheme, a host that does not resolve, or an address refused."""
    scheme, host, port, path = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"The host “{host}” does not resolve to an address.", field="url") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise UnsafeTarget(f"The host “{host}” does not resolve to an address.", field="url")
    for address in addresses:
        reason = address_refusal(address)
        if reason:
            raise UnsafeTarget(f"“{host}” may not be called: {reason}.", field="url")
    if scheme == "http" and not all(ipaddress.ip_address(a.split("%", 1)[0]).is_loopback for a in addresses):
        # Loopback over plain http is a development convenience; anything
        # else leaves the machine and must be encrypted.
        raise UnsafeTarget("The URL must start with https://.", field="url")
    return Target(scheme=scheme, host=host, port=port, path=path, address=addresses[0])
