"""Fixtures shared by the whole suite, chained by role (see STYLE.md)."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_report_header(config):
    db = django_settings.DATABASES["default"]
    return f"cvx database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('HOST') or db['NAME']}"


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests never skip silently: under CI they fail."""
    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            if IN_CI:
                item.add_marker(pytest.mark.usefixtures("_postgres_required"))
            else:
                item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: run `make test`"))


@pytest.fixture
def _postgres_required():
    pytest.fail("this test needs PostgreSQL, and CI=true forbids skipping it")


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # The manifest storage needs `collectstatic`; tests render from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    """django-q2 runs queued tasks synchronously in tests."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
