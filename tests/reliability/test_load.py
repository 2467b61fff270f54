"""Load on loopback: concurrent clients post feedback to a live server for a
bounded time. Every accepted response is stored exactly once, and every
other request got a clear status: 200 replay, 409 conflict, 400 with field
errors or 429 throttled, never a 5xx."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

CLIENTS = 12
SECONDS = 6.0
MAX_REQUESTS_PER_CLIENT = 400

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]


def _post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        payload = error.read()
        return error.code, json.loads(payload) if payload.startswith(b"{") else {"raw": payload.decode()[:200]}


def _client(n: int, url: str, token: str, stop_at: float) -> list[tuple[str, dict, int, dict]]:
    """One client: mostly new feedback, some replays, conflicts and bad input."""
    rnd, sent, log = random.Random(n), [], []
    for i in range(MAX_REQUESTS_PER_CLIENT):
        if time.monotonic() > stop_at:
            break
        roll = rnd.random()
        if sent and roll < 0.15:
            kind, body = "replay", rnd.choice(sent)
        elif sent and roll < 0.22:
            kind, body = "conflict", {**rnd.choice(sent), "nps": 10, "comment": "changed my mind"}
        elif roll < 0.30:
            kind, body = (
                "invalid",
                {"touchpoint": "fault-line", "source": "load", "external_id": f"bad-{n}-{i}", "nps": 42},
            )
        else:
            kind, body = (
                "new",
                {
                    "touchpoint": "fault-line",
                    "source": "load",
                    "external_id": f"c{n}-{i}",
                    "nps": rnd.randint(0, 10),
                    "comment": "load test comment",
                    "customer": {"email": f"load{rnd.randrange(50)}@example.com"},
                },
            )
            sent.append(body)
        status, reply = _post(url, token, body)
        log.append((kind, body, status, reply))
    return log


def test_concurrent_clients_lose_nothing_and_get_clear_answers(live_server, integration, touchpoint, monkeypatch):
    from django_q.conf import Conf
    from rest_framework.settings import api_settings
    from rest_framework.throttling import ScopedRateThrottle

    from feedback.models import FeedbackResponse

    # As in production, routing is queued for workers, not run in the request.
    monkeypatch.setattr(Conf, "SYNC", False)
    # A rate the run will hit, so throttled requests are part of what is checked.
    ScopedRateThrottle.THROTTLE_RATES = {**api_settings.DEFAULT_THROTTLE_RATES, "ingest": "40/min"}
    url = f"{live_server.url}/api/v1/feedback/"
    stop_at = time.monotonic() + SECONDS
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            logs = [
                entry
                for log in pool.map(lambda n: _client(n, url, integration, stop_at), range(CLIENTS))
                for entry in log
            ]
    finally:
        ScopedRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    statuses = Counter(status for _kind, _body, status, _reply in logs)
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {200, 201, 400, 409, 429}, statuses
    created = {body["external_id"]: reply["id"] for kind, body, status, reply in logs if status == 201}
    stored = dict(FeedbackResponse.objects.filter(source="load").values_list("external_id", "pk"))
    assert stored == created  # every accepted response stored, exactly once, nothing else
    for kind, body, status, reply in logs:
        if status == 400:
            assert kind == "invalid" and "nps" in reply
        elif status == 409:
            assert kind == "conflict" and "external_id" in reply
        elif status == 429:
            assert "detail" in reply  # DRF: "Request was throttled. Expected available in N seconds."
        elif status == 200:
            assert kind in ("replay", "conflict") and reply["id"] == stored[body["external_id"]]
    assert statuses[201] >= 10 and statuses[429] > 0, statuses
    print(
        f"\nload: {len(logs)} requests from {CLIENTS} clients in {SECONDS:.0f} s: {dict(statuses)}; "
        f"{len(stored)} stored, 0 lost, 0 duplicated"
    )
