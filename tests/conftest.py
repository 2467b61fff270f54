"""Fixtures shared by the whole suite, chained by role (see docs/architecture.md, Conventions)."""

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
    # Real hashers cost ~0.3 s a password by design; tests make many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The manifest storage needs `collectstatic`; tests render from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Nothing is collected for tests, so whitenoise has no directory to serve (and would warn of its absence).
    settings.STATIC_ROOT = None


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    """django-q2 runs queued tasks synchronously in tests."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


# --- people, by role ------------------------------------------------------------


def _make_user(username: str, role: str | None, *, staff: bool = False):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user(
        username=username, password="a-Long-test-passw0rd", email=f"{username}@example.com", is_staff=staff
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def team(db):
    from journeys.models import Team

    return Team.objects.create(name="Customer care", slug="care")


@pytest.fixture
def other_team(db):
    from journeys.models import Team

    return Team.objects.create(name="Stores", slug="stores")


@pytest.fixture
def agent(team):
    from journeys.roles import FRONTLINE

    user = _make_user("agent", FRONTLINE)
    team.members.add(user)
    return user


@pytest.fixture
def other_agent(other_team):
    from journeys.roles import FRONTLINE

    user = _make_user("other_agent", FRONTLINE)
    other_team.members.add(user)
    return user


@pytest.fixture
def lead(team):
    from journeys.roles import TEAM_LEAD

    user = _make_user("lead", TEAM_LEAD, staff=True)
    team.members.add(user)
    team.lead = user
    team.save(update_fields=["lead"])
    return user


@pytest.fixture
def cx_admin(db):
    from journeys.roles import CX_ADMIN

    return _make_user("cxadmin", CX_ADMIN, staff=True)


@pytest.fixture
def outsider(db):
    return _make_user("outsider", None)


@pytest.fixture
def integration(db):
    """An integration's service user and its API token key."""
    from rest_framework.authtoken.models import Token

    from journeys.roles import INTEGRATION

    user = _make_user("integration", INTEGRATION)
    return Token.objects.create(user=user).key


# --- clients ------------------------------------------------------------------


@pytest.fixture
def api():
    """An APIClient factory: api(user) logs in by session, api(token=key) by token, api() is anonymous."""
    from rest_framework.test import APIClient

    def make(user=None, *, token: str | None = None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        if token is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


# --- journeys -----------------------------------------------------------------


@pytest.fixture
def journey(db):
    from journeys.models import Journey

    return Journey.objects.create(name="Get connected", slug="get-connected")


@pytest.fixture
def stage(journey):
    from journeys.models import Stage

    return Stage.objects.create(journey=journey, name="Get help", position=4)


@pytest.fixture
def stores_touchpoint(stage, other_team, other_agent):
    """A touchpoint of the other team (stores), "store-till"."""
    from journeys.models import Touchpoint

    return Touchpoint.objects.create(
        stage=stage,
        name="Store till",
        slug="store-till",
        channel="store",
        team=other_team,
        default_owner=other_agent,
        first_contact_sla_hours=4,
        resolution_sla_hours=24,
    )


@pytest.fixture
def touchpoint(stage, team, agent):
    from journeys.models import Touchpoint

    return Touchpoint.objects.create(
        stage=stage,
        name="Fault line",
        slug="fault-line",
        channel="call_center",
        team=team,
        default_owner=agent,
        first_contact_sla_hours=4,
        resolution_sla_hours=24,
    )


# --- the test database: made by the owner role, used by the app role ------------

_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")
_APP_CREDENTIALS = {key: django_settings.DATABASES["default"].get(key, "") for key in _CREDENTIALS}


def _log_in_as(credentials: dict) -> None:
    from django.db import connections

    connection = connections["default"]
    connection.close()
    connection.settings_dict.update(credentials)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """On PostgreSQL with DATABASE_OWNER_URL (as `make test` runs it), the test
    database is created and migrated by the owner role, as production's is
    (cases' `migrate` then grants the app role its privileges)..."""
    if django_settings.CVX_DATABASE_OWNER:
        _log_in_as(django_settings.CVX_DATABASE_OWNER)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """...and the tests run as the app role, which owns no table; the owner
    drops the database at the end.

    ANALYZE is for a table's owner only, and the tests that look at query
    plans gather statistics on rows they have not committed, so in their
    own transaction: `SELECT cvx_test_analyze('table')` does it for them (a
    function of the test database only, run with its owner's rights)."""
    from django.db import connections

    connection = connections["default"]
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(_TEST_ANALYZE)
            if django_settings.CVX_DATABASE_OWNER:
                cursor.execute(f'GRANT EXECUTE ON FUNCTION cvx_test_analyze(regclass) TO "{_APP_CREDENTIALS["USER"]}"')
    if not django_settings.CVX_DATABASE_OWNER:
        yield
        return
    _log_in_as(_APP_CREDENTIALS)
    yield
    _log_in_as(django_settings.CVX_DATABASE_OWNER)


_TEST_ANALYZE = """
CREATE OR REPLACE FUNCTION cvx_test_analyze(target regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    EXECUTE format('ANALYZE %s', target);
END
$$;
"""


@pytest.fixture(scope="session", autouse=True)
def _audit_key_for_subprocesses():
    """Processes a test starts (a qcluster, `manage.py check`) hash and sign
    with the key this process uses."""
    os.environ.setdefault("CVX_AUDIT_KEY", django_settings.CVX_AUDIT_KEY)


def owner_connection():
    """A new psycopg connection to the test database as the role that owns
    the tables (the app's own role when there is no DATABASE_OWNER_URL): what
    an attacker holding the owner's password could do. It sees only what the
    test has committed."""
    import psycopg
    from django.db import connections

    db = connections["default"].settings_dict
    credentials = django_settings.CVX_DATABASE_OWNER or {key: db.get(key) for key in _CREDENTIALS}
    return psycopg.connect(
        dbname=db["NAME"],
        user=credentials["USER"],
        password=credentials["PASSWORD"] or None,
        host=credentials["HOST"] or None,
        port=credentials["PORT"] or None,
    )


def _append_only(action: str) -> list[str]:
    from cvx_site.db_roles import append_only_tables

    return [f"ALTER TABLE {table} {action} TRIGGER USER" for table in append_only_tables()]


@pytest.fixture
def tamper(transactional_db):
    """tamper() -> a context manager giving a cursor that writes as an
    attacker with the table owner's rights would: on PostgreSQL a connection
    of the owner role with the append-only triggers switched off, committed
    at the end of the block (so the test must be transactional: use it with
    `pg_audit_cleanup`); on SQLite, which has neither roles nor triggers, the
    test's own connection."""
    import contextlib

    from django.db import connection, transaction

    @contextlib.contextmanager
    def cursor(*, triggers_off: bool = True):
        if connection.vendor != "postgresql":
            with transaction.atomic(), connection.cursor() as django_cursor:
                yield django_cursor
            return
        with owner_connection() as owner, owner.cursor() as owner_cursor:
            # Django's foreign keys are deferred: checked at once instead, so
            # that no pending check stops ALTER TABLE turning the triggers on again.
            owner_cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for sql in _append_only("DISABLE") if triggers_off else []:
                owner_cursor.execute(sql)
            yield owner_cursor
            for sql in _append_only("ENABLE") if triggers_off else []:
                owner_cursor.execute(sql)

    return cursor


# --- transactional tests on PostgreSQL ------------------------------------------


@pytest.fixture
def pg_audit_cleanup(transactional_db):
    """For transactional tests on PostgreSQL, whose data Django removes by a
    flush: one TRUNCATE of every table, which the append-only triggers refuse
    (statement triggers: they fire even when the tables are empty), and which
    the app role may not run at all. On SQLite there is no trigger and this
    does nothing.

    Requesting `transactional_db` makes this teardown run before the flush.
    It has the flush run by the owner role as DISABLE TRIGGER USER on the
    append-only tables; TRUNCATE ... (every table); ENABLE TRIGGER USER, in
    one transaction, so the triggers are on again whether it commits or
    rolls back. Emptying the tables first and re-enabling before the flush
    would not do: the flush's TRUNCATE would still be refused.
    """
    yield
    from django.db import connections

    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    ops = connection.ops

    def flush_as_owner_with_triggers_off(sql_list):
        del ops.execute_sql_flush  # once only: back to the backend's own method
        with owner_connection() as owner, owner.cursor() as cursor:
            for sql in [*_append_only("DISABLE"), *sql_list, *_append_only("ENABLE")]:
                cursor.execute(sql)

    ops.execute_sql_flush = flush_as_owner_with_triggers_off


# --- the browser (Playwright driving Debian's Chromium) ---------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _no_browser(reason: str):
    if IN_CI:
        pytest.fail(f"{reason}; CI=true forbids skipping the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (Playwright's sync API).

    Playwright's sync API marks its asyncio loop as running in this thread for
    as long as it is started (from the first browser test to the end of the
    session), which has two effects on Django in this thread:

    - the ORM refuses calls (SynchronousOnlyOperation). DJANGO_ALLOW_ASYNC_UNSAFE
      is Django's documented switch for that; it is set while Playwright runs
      and restored after.
    - `django.db.connections`, an asgiref thread-critical Local, keeps its
      connections in a context variable instead of the thread-local while a
      loop runs, so the thread would get a second set of DatabaseWrappers. The
      set made first keeps what test-database setup stored on it (the
      serialized contents behind `serialized_rollback`), and the other silently
      lacks it. So the wrappers of the thread are put into the loop-time
      storage too: one set of connections, whichever runs first.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _no_browser(f"the playwright package is not installed ({exc})")
    if not os.path.exists(CHROMIUM):
        _no_browser(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from django.db import connections

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    wrappers = {alias: connections[alias] for alias in connections}  # the thread-local set
    playwright = browser = None
    try:
        try:
            playwright = sync_playwright().start()
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - any failure to start means no browser
            _no_browser(f"Chromium at {CHROMIUM} could not be started: {exc}".splitlines()[0])
        for alias, wrapper in wrappers.items():  # now the loop runs: the same set there
            connections[alias] = wrapper
        yield browser
    finally:
        if browser is not None:
            browser.close()
        if playwright is not None:
            playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium):
    """A fresh browser context (no cookies) at desktop size, and its page."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()
