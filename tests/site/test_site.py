"""The site's own endpoints: health, admin login, API schema."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_healthz_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


def test_admin_login_page_renders(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_openapi_schema_is_served(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert b"openapi" in response.content


def test_suite_runs_on_the_database_it_was_asked_for():
    """The runner says which database it means; a silent fallback would fail here."""
    expected = os.environ.get("CVX_EXPECT_DB") or settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    assert connection.vendor == expected.replace("sqlite3", "sqlite")


@pytest.mark.sqlite
def test_sqlite_runs_in_wal_mode():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_api_docs_page_loads_no_asset_from_the_internet(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui" in body
    assert "https://" not in body and "http://" not in body.replace("http://testserver", "")
