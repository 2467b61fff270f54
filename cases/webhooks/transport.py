"""One HTTP POST to a checked address (cases.webhooks.guard), bounded in
time and size, never following a redirect.

http.client rather than a client library: the connection must go to the
very address the guard checked (so it is opened to the IP, with the host
name kept for TLS verification and the Host header), and nothing may follow
a redirect into the network the guard keeps out."""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass

from cases.webhooks.guard import Target

RESPONSE_BYTES = 4096  # read at most this much of a reply (its excerpt is kept)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=connect_timeout)
        self._address = target.address
        self._read_timeout = read_timeout

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.settimeout(self._read_timeout)
        return sock

    def connect(self) -> None:
        self.sock = self._open()


class _PinnedHTTPS(_PinnedHTTP):
    default_port = 443

    def connect(self) -> None:
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self._open(), server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], *, connect_timeout: float, read_timeout: float) -> Reply:
    """POST `body` to the target and return the reply's status and first
    bytes. Raises OSError (refused, timed out, TLS failure) or
    http.client.HTTPException (a malformed reply)."""
    connection_class = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = connection_class(target, connect_timeout, read_timeout)
    try:
        connection.request("POST", target.path, body=body, headers={**headers, "Connection": "close"})
        response = connection.getresponse()
        return Reply(status=response.status, body=response.read(RESPONSE_BYTES))
    finally:
        connection.close()
