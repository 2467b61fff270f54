"""Abuse: the public survey page is rate limited, logins lock out, every form
needs its CSRF token, pages carry the security headers, passwords are
checked, oversized uploads are refused and customer text is escaped."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases import services
from cases.models import Case, RoutingRule
from feedback.choices import SurveyPurpose
from feedback.models import Customer, FeedbackResponse
from feedback.services import feedback_ingest
from feedback.surveys import invitation_create, invitation_token

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-Long-test-passw0rd"  # tests/conftest.py's _make_user
XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"
XSS_COMMENT = f"Terrible, awful, useless engineer {XSS}"


def ingest(n: int, **item) -> FeedbackResponse:
    item = {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": f"abuse-{n}",
        "customer": {"email": f"abuse-{n}@example.com"},
        **item,
    }
    outcome = feedback_ingest(item=item)
    assert outcome.status == "created", outcome.errors
    return outcome.response


@pytest.fixture
def case(touchpoint, agent) -> Case:
    RoutingRule.objects.create(name="Detractors", position=10, nps_at_most=6)
    response = ingest(1, nps=1, comment=XSS_COMMENT)
    services.response_route(response_id=response.pk)
    return Case.objects.get(feedback=response)


@pytest.fixture
def survey_path(touchpoint) -> str:
    customer = feedback_ingest(
        item={
            "touchpoint": "fault-line",
            "source": "ops",
            "external_id": "abuse-s",
            "nps": 8,
            "customer": {"email": "survey@example.com"},
        }
    ).response.customer
    invitation = invitation_create(customer=customer, touchpoint=touchpoint, purpose=SurveyPurpose.SURVEY)
    return f"/s/{invitation_token(invitation)}/"


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL", "CVX_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "CVX_DATA_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "x" * 60, **env},
    )


# --- the public survey page is rate limited ------------------------------------------


def test_the_survey_page_answers_429_once_an_address_passes_the_rate(client, survey_path, settings):
    settings.CVX_RATE_SURVEY = "3/min"
    assert client.get(survey_path).status_code == 200
    assert client.post(survey_path, {"nps": "11"}).status_code == 400
    assert client.get(survey_path).status_code == 200
    refused = client.post(survey_path, {"nps": "9"})
    assert refused.status_code == 429
    assert b"Please wait a moment" in refused.content and b"<main" in refused.content
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert not FeedbackResponse.objects.filter(invitation__isnull=False).exists()


def test_the_survey_rate_limit_applies_before_the_link_is_checked(client, db, settings):
    settings.CVX_RATE_SURVEY = "2/min"
    assert [client.get(f"/s/guess-{n}/").status_code for n in range(3)] == [404, 404, 429]


def test_the_survey_rate_limit_is_per_address(client, survey_path, settings):
    settings.CVX_RATE_SURVEY = "1/min"
    assert client.get(survey_path, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert client.get(survey_path, REMOTE_ADDR="192.0.2.1").status_code == 429
    assert client.get(survey_path, REMOTE_ADDR="192.0.2.2").status_code == 200


def test_a_forged_forwarded_for_header_does_not_escape_the_survey_limit(client, survey_path, settings):
    settings.CVX_RATE_SURVEY = "1/min"
    assert client.get(survey_path, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 200
    assert client.get(survey_path, HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 429


def test_the_survey_rate_defaults_to_30_a_minute(client, survey_path):
    assert {client.get(survey_path).status_code for _ in range(30)} == {200}
    assert client.get(survey_path).status_code == 429


def test_a_malformed_survey_rate_stops_startup_naming_the_variable(tmp_path):
    result = manage("check", env={"CVX_RATE_SURVEY": "lots"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "CVX_RATE_SURVEY: expected a rate like 600/min" in result.stderr


# --- login attempts lock out --------------------------------------------------------


def log_in(client, username: str, password: str, address: str = "203.0.113.5"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_until_locked(client, username: str, address: str = "203.0.113.5") -> None:
    """Five failures (CVX_LOGIN_FAILURE_LIMIT's default): the first four get
    the form again, the fifth the lockout."""
    for _ in range(4):
        assert log_in(client, username, "wrong", address).status_code == 200
    assert log_in(client, username, "wrong", address).status_code == 429


def test_login_locks_out_after_five_failures_even_with_the_right_password(client, agent):
    fail_until_locked(Client(), "agent")
    locked = log_in(client, "agent", PASSWORD)
    assert locked.status_code == 429
    assert b"too many login attempts" in locked.content
    assert "_auth_user_id" not in client.session


def test_four_failures_do_not_lock_out(client, agent):
    for _ in range(4):
        log_in(client, "agent", "wrong")
    assert log_in(client, "agent", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)


def test_a_lockout_is_per_username_and_address(client, agent, lead):
    fail_until_locked(client, "agent", "203.0.113.5")
    assert log_in(Client(), "agent", PASSWORD, "203.0.113.5").status_code == 429
    assert log_in(Client(), "lead", PASSWORD, "203.0.113.5").status_code == 302
    assert log_in(Client(), "agent", PASSWORD, "203.0.113.99").status_code == 302


def test_behind_a_proxy_a_lockout_is_per_forwarded_client_address(agent, settings):
    """DJANGO_BEHIND_PROXY: every login arrives from the proxy's address; the
    client's is the one the proxy appended to X-Forwarded-For."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def via_proxy(password: str, forwarded_for: str):
        return Client().post(
            "/accounts/login/",
            {"username": "agent", "password": password},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )

    for _ in range(4):
        assert via_proxy("wrong", "203.0.113.5").status_code == 200
    assert via_proxy("wrong", "203.0.113.5").status_code == 429
    assert via_proxy(PASSWORD, "198.51.100.7").status_code == 302  # someone else behind the same proxy
    # What the client itself put first in the header is not believed.
    assert via_proxy(PASSWORD, "198.51.100.7, 203.0.113.5").status_code == 429


def test_without_a_proxy_a_forged_forwarded_for_does_not_lift_a_lockout(client, agent):
    fail_until_locked(client, "agent", "203.0.113.5")
    forged = Client().post(
        "/accounts/login/",
        {"username": "agent", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.5",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert forged.status_code == 429


def test_a_lockout_lifts_after_an_hour(client, agent):
    from axes.models import AccessAttempt

    fail_until_locked(client, "agent")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=59))
    assert log_in(Client(), "agent", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=61))
    assert log_in(Client(), "agent", PASSWORD).status_code == 302


def test_api_token_auth_is_not_affected_by_a_login_lockout(client, api, integration):
    fail_until_locked(client, "integration", "127.0.0.1")
    assert api(token=integration).get("/api/v1/touchpoints/", REMOTE_ADDR="127.0.0.1").status_code == 200


def test_the_login_failure_limit_comes_from_the_environment(tmp_path):
    script = "from django.conf import settings; print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)"
    result = manage("shell", "-c", script, env={"CVX_LOGIN_FAILURE_LIMIT": "3"}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "3 1:00:00"


# --- CSRF on every form ---------------------------------------------------------------


def _form_posts(case, survey_path) -> list[tuple[str | None, str, str, dict]]:
    """(who is logged in, page with the form, where it posts, valid data)."""
    return [
        (None, "/accounts/login/", "/accounts/login/", {"username": "agent", "password": PASSWORD}),
        (
            "agent",
            "/accounts/password_change/",
            "/accounts/password_change/",
            {"old_password": PASSWORD, "new_password1": "An0ther-long-pass", "new_password2": "An0ther-long-pass"},
        ),
        ("agent", f"/cases/{case.pk}/", "/accounts/logout/", {}),
        ("agent", f"/cases/{case.pk}/", f"/cases/{case.pk}/act/note/", {"note-note": "Called back"}),
        ("agent", f"/cases/{case.pk}/", f"/cases/{case.pk}/act/acknowledge/", {"acknowledge-note": ""}),
        (
            "lead",
            "/cases/queue/all/",
            "/cases/bulk-reassign/",
            {"case": [str(case.pk)], "owner": "", "note": "Rebalancing"},
        ),
        (None, survey_path, survey_path, {"nps": "9"}),
        ("cx_admin", "/admin/", "/admin/logout/", {}),
    ]


@pytest.fixture
def form_posts(case, survey_path, lead, cx_admin):
    return _form_posts(case, survey_path)


def login_as(client, username: str | None):
    if username:  # fresh from the database: a post below may have changed the password
        client.force_login(get_user_model().objects.get(username=username.replace("cx_admin", "cxadmin")))
    return client


def test_every_form_refuses_a_post_without_its_csrf_token(form_posts):
    for who, _page, target, data in form_posts:
        client = login_as(Client(enforce_csrf_checks=True), who)
        response = client.post(target, data)
        assert response.status_code == 403, target
        assert b"CSRF" in response.content, target


def test_every_form_accepts_the_post_with_its_csrf_token(form_posts):
    """The control for the test above: the same posts with the token the page
    handed out get past CSRF, so the 403 there was CSRF and nothing else."""
    for who, page, target, data in form_posts:
        client = login_as(Client(enforce_csrf_checks=True), who)
        assert client.get(page).status_code == 200, page
        response = client.post(target, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})
        assert response.status_code != 403, target


def test_the_api_refuses_a_session_post_without_a_csrf_token(agent, touchpoint):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(
        "/api/v1/feedback/", {"touchpoint": "fault-line", "source": "web", "external_id": "c1", "nps": 9}, format="json"
    )
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]


def _patterns(resolver: URLResolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from _patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_no_page_outside_the_api_is_exempt_from_csrf():
    """DRF's views are csrf_exempt by design and enforce CSRF themselves for
    session logins (test above); nothing else may opt out."""
    exempt = [
        route
        for route, view in _patterns(get_resolver())
        if getattr(view, "csrf_exempt", False) and not route.startswith("api/v1/")
    ]
    assert exempt == []


# --- security headers -----------------------------------------------------------------


def test_pages_carry_the_security_headers(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response  # not without DJANGO_HTTPS


# /healthz, as pages need the collected static files' manifest when DEBUG is off.
HEADERS_SCRIPT = """
import json
from django.conf import settings
from django.test import Client
client = Client()
secure = client.get("/healthz", secure=True)
plain = client.get("/healthz")
print(json.dumps({"hsts": secure.get("Strict-Transport-Security"), "plain_status": plain.status_code,
                  "plain_location": plain.get("Location"),
                  "secure_cookies": [settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE]}))
"""


def test_with_https_declared_pages_carry_hsts_and_plain_http_is_redirected(tmp_path):
    result = manage(
        "shell",
        "-c",
        HEADERS_SCRIPT,
        tmp_path=tmp_path,
        env={"DJANGO_HTTPS": "true", "DJANGO_ALLOWED_HOSTS": "testserver"},
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert (seen["plain_status"], seen["plain_location"]) == (301, "https://testserver/healthz")
    assert seen["secure_cookies"] == [True, True]


# --- passwords --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password", "This password is too common."),
        ("48151623429", "This password is entirely numeric."),
        ("x7#Kq", "This password is too short. It must contain at least 8 characters."),
    ],
)
def test_weak_passwords_are_refused_by_the_configured_validators(password, message):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert message in refused.value.messages


def test_a_password_like_the_username_is_refused(db):
    user = get_user_model()(username="margaret.hamilton", email="margaret.hamilton@example.com")
    with pytest.raises(ValidationError, match="too similar"):
        validate_password("margaret.hamilton1", user=user)


def test_a_long_uncommon_password_is_accepted():
    assert validate_password("correct-Horse-battery-st4ple") is None


# --- oversized uploads ------------------------------------------------------------------


def test_a_csv_over_the_import_limit_is_refused_and_nothing_is_stored(touchpoint, tmp_path, settings):
    settings.CVX_IMPORT_MAX_BYTES = 100
    path = tmp_path / "big.csv"
    path.write_text("touchpoint,source,external_id,nps\n" + "".join(f"fault-line,csv,r{n},9\n" for n in range(10)))
    assert path.stat().st_size > 100
    with pytest.raises(CommandError, match=r"big\.csv is 2\d\d bytes, over the limit of 100 bytes"):
        call_command("import_feedback", str(path), "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    assert not FeedbackResponse.objects.exists() and not Customer.objects.exists()


def test_an_api_body_over_the_request_limit_is_refused_with_413(api, integration, touchpoint, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    item = {"touchpoint": "fault-line", "source": "web", "external_id": "big", "nps": 9, "comment": "x" * 4000}
    response = api(token=integration).post("/api/v1/feedback/", item, format="json")
    assert response.status_code == 413
    assert "at most 2048" in response.json()["detail"]
    assert not FeedbackResponse.objects.exists()
    small = api(token=integration).post("/api/v1/feedback/", {**item, "comment": "fine"}, format="json")
    assert small.status_code == 201


# --- customer text is escaped wherever it is shown ---------------------------------------


def assert_escaped(response) -> None:
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(" not in html and "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(" in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_comment_is_escaped_on_the_case_page(client, case, agent):
    client.force_login(agent)
    assert_escaped(client.get(f"/cases/{case.pk}/"))


def test_customer_text_quoted_in_a_note_is_escaped_on_the_audit_page(client, case, agent, lead):
    services.case_note(case_id=case.pk, actor=agent, note=f"Customer wrote: {XSS}")
    client.force_login(lead)
    assert_escaped(client.get("/cases/audit/"))


def test_a_comment_is_escaped_in_the_feedback_admin(client, case, admin_user):
    client.force_login(admin_user)
    assert_escaped(client.get(f"/admin/feedback/feedbackresponse/{case.feedback_id}/change/"))
    listed = client.get("/admin/feedback/feedbackresponse/", {"q": XSS})
    assert_escaped(listed)
    assert f"/admin/feedback/feedbackresponse/{case.feedback_id}/change/" in listed.content.decode()


def test_a_comment_is_escaped_on_the_touchpoint_insight_page(client, case, lead):
    url = reverse("cases:insights-touchpoint", args=["fault-line"])
    client.force_login(lead)
    response = client.get(url)
    assert "useless engineer" in response.content.decode()  # the comment is shown as a theme example
    assert_escaped(response)
