"""cvx_site.db.planned_as_lookup: no parallel workers and no JIT for the
enclosed queries on PostgreSQL, the settings put back afterwards."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cvx_site.db import planned_as_lookup


def settings_now() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
        return cursor.fetchone()


@pytest.mark.postgres
@pytest.mark.django_db
def test_inside_the_block_no_workers_and_no_jit_then_as_before():
    with connection.cursor() as cursor:  # a value other than the server's default, to see it restored
        cursor.execute("SELECT set_config('max_parallel_workers_per_gather', '3', true), set_config('jit', 'on', true)")
    with planned_as_lookup():
        assert settings_now() == ("0", "off")
    assert settings_now() == ("3", "on")


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_error_inside_leaves_the_settings_as_they_were():
    before = settings_now()
    with pytest.raises(LookupError), planned_as_lookup():
        raise LookupError("raised inside the block")
    assert settings_now() == before
    with transaction.atomic():  # the connection is usable
        assert settings_now() == before


@pytest.mark.sqlite
@pytest.mark.django_db
def test_elsewhere_it_runs_no_statement():
    with CaptureQueriesContext(connection) as queries, planned_as_lookup():
        pass
    assert len(queries) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_the_commit_ends_them(pg_audit_cleanup):
    before = settings_now()
    with CaptureQueriesContext(connection) as queries, planned_as_lookup():
        assert settings_now() == ("0", "off")
    assert settings_now() == before
    assert not [q for q in queries if "set_config('jit', %s" in q["sql"] or "'jit', 'on'" in q["sql"]]
