"""What the audit trail notices beyond an edited event: a trail cut short
with its head reset, a case gone with its events, a case row edited in the
table, a chain rewritten and rehashed without the key; signed checkpoints
kept in and copied out of the database; incremental verification finding
what full verification finds; and, on PostgreSQL, an app role that cannot
switch the append-only triggers off."""

from __future__ import annotations

import hashlib
import hmac
import io
import json

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from cases import services
from cases.audit import GENESIS, KEYED, UNKEYED, canonical, event_hash
from cases.audit.checkpoints import sign
from cases.audit.trail import last_good_checkpoint
from cases.audit.verify import ChainBreak
from cases.models import AuditCheckpoint, AuditCheckpointHead, Case, CaseEvent, VerificationRun
from cases.services.audit import audit_checkpoint_create, verification_start

# Tampering is raw SQL as the table owner would run it (the `tamper` fixture),
# committed: these tests are transactional.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pg_audit_cleanup"),
]


def verify_audit(*args: str) -> tuple[int, str, str]:
    """Run the command; (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def events_of(case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq"))


@pytest.fixture
def noted_case(make_case, agent):
    """A case with four events: opened, assigned, two notes."""
    case = make_case()
    services.case_note(case_id=case.pk, actor=agent, note="Called, no answer")
    services.case_note(case_id=case.pk, actor=agent, note="Left a voicemail")
    return case


def drop_last_event_and_reset_head(cursor, case) -> None:
    """What an attacker does so that the chain still ends at the case's head."""
    *kept, last = events_of(case)
    cursor.execute("DELETE FROM cases_notification WHERE event_id = %s", [last.pk])
    cursor.execute("DELETE FROM cases_caseevent WHERE id = %s", [last.pk])
    cursor.execute(
        "UPDATE cases_case SET audit_seq = %s, audit_head = %s WHERE id = %s", [kept[-1].seq, kept[-1].hash, case.pk]
    )


def rechain(cursor, case, *, note_at: int, note: str, version: int, key: bytes) -> None:
    """Rewrite one event's note and recompute every hash from there on, as
    `version` with `key`, moving the case's head: a chain that holds."""
    prev = GENESIS
    for event in events_of(case):
        if event.seq >= note_at:
            event.note = note if event.seq == note_at else event.note
            event.prev_hash, event.version = prev, version
            content = canonical(
                case_id=case.pk,
                seq=event.seq,
                kind=event.kind,
                actor_id=event.actor_id,
                at=event.at,
                changes=event.changes,
                note=event.note,
                data=event.data,
                prev_hash=prev,
                version=version,
            )
            event.hash = (
                hmac.new(key, content, hashlib.sha256) if version == KEYED else hashlib.sha256(content)
            ).hexdigest()
            cursor.execute(
                "UPDATE cases_caseevent SET note = %s, prev_hash = %s, hash = %s, version = %s WHERE id = %s",
                [event.note, event.prev_hash, event.hash, version, event.pk],
            )
        prev = event.hash
    cursor.execute("UPDATE cases_case SET audit_head = %s WHERE id = %s", [prev, case.pk])


def delete_case(cursor, case) -> None:
    """A case gone with everything that refers to it."""
    cursor.execute(
        "DELETE FROM cases_notification WHERE event_id IN (SELECT id FROM cases_caseevent WHERE case_id = %s)",
        [case.pk],
    )
    cursor.execute("DELETE FROM cases_caseevent WHERE case_id = %s", [case.pk])
    cursor.execute("DELETE FROM cases_routedresponse WHERE case_id = %s", [case.pk])
    cursor.execute("DELETE FROM cases_followup WHERE case_id = %s", [case.pk])
    cursor.execute("DELETE FROM cases_case WHERE id = %s", [case.pk])


def breaks_of(err: str) -> set[str]:
    return {line for line in err.splitlines() if line.startswith("BROKEN ")}


# --- what passed verification before -------------------------------------------------


def test_a_deleted_last_event_with_its_head_reset_is_named_by_the_row_it_leaves(make_case, agent, tamper):
    case = make_case()
    services.case_acknowledge(case_id=case.pk, actor=agent)
    with tamper() as cursor:
        drop_last_event_and_reset_head(cursor, case)
    code, _, err = verify_audit()
    assert code == 1
    assert f"BROKEN case {case.number}: case row: status is 'acknowledged', but its events leave 'new'" in err


def test_a_deleted_last_note_with_its_head_reset_is_a_truncated_tail_against_the_checkpoint(noted_case, tamper):
    audit_checkpoint_create()
    head = events_of(noted_case)[-1].hash
    with tamper() as cursor:
        drop_last_event_and_reset_head(cursor, noted_case)
    code, _, err = verify_audit()
    assert code == 1
    assert breaks_of(err) == {
        f"BROKEN case {noted_case.number}: event #4: is gone: checkpoint #1 recorded 4 event(s) "
        f"ending in {head[:12]}… (truncated tail)",
        "BROKEN checkpoint #1: recorded 4 events; the trail now holds 3 (events were removed)",
    }


def test_a_case_deleted_with_its_events_is_named_as_vanished(noted_case, make_case, tamper):
    other = make_case()
    audit_checkpoint_create()
    with tamper() as cursor:
        delete_case(cursor, noted_case)
    code, _, err = verify_audit()
    assert code == 1
    assert (
        f"BROKEN case {noted_case.number}: whole case: the case is gone with its trail; checkpoint #1 recorded "
        "4 event(s)"
    ) in err
    assert "checkpoint #1: recorded 6 events; the trail now holds 2 (events were removed)" in err
    assert other.number not in err


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("status", "closed", "status is 'closed', but its events leave 'new'"),
        ("outcome", "recovered", "outcome is 'recovered', but its events leave None"),
        ("priority", "urgent", "priority is 'urgent', but its events leave 'normal'"),
        ("owner_id", None, "owner is None, but its events leave"),
    ],
)
def test_a_case_row_edited_in_the_table_is_named(make_case, tamper, column, value, shown):
    case = make_case()
    with tamper() as cursor:
        cursor.execute(f"UPDATE cases_case SET {column} = %s WHERE id = %s", [value, case.pk])
    code, _, err = verify_audit()
    assert code == 1
    assert f"BROKEN case {case.number}: case row: {shown}" in err


@pytest.mark.parametrize(
    ("version", "key", "found"),
    [
        (
            KEYED,
            b"a key the attacker guessed, not CVX_AUDIT_KEY",
            "event #3 (id {id}): content does not match its hash",
        ),
        (UNKEYED, None, "event #3 (id {id}): an unkeyed (version 1) hash after keyed ones"),
    ],
    ids=["another-key", "downgraded-to-unkeyed"],
)
def test_a_rewritten_note_with_every_hash_recomputed_without_the_key_is_found(noted_case, tamper, version, key, found):
    with tamper() as cursor:
        rechain(cursor, noted_case, note_at=3, note="Customer was rude", version=version, key=key)
    third = events_of(noted_case)[2]
    assert third.note == "Customer was rude"
    code, _, err = verify_audit()
    assert code == 1
    assert f"BROKEN case {noted_case.number}: {found.format(id=third.pk)}" in err


def test_even_with_the_key_a_rewrite_breaks_the_checkpoint_made_before(noted_case, tamper):
    audit_checkpoint_create()
    with tamper() as cursor:
        rechain(
            cursor, noted_case, note_at=3, note="Customer was rude", version=KEYED, key=settings.CVX_AUDIT_KEY.encode()
        )
    code, _, err = verify_audit()
    assert code == 1
    assert [line for line in breaks_of(err)] == [
        f"BROKEN case {noted_case.number}: event #4: is not the one checkpoint #1 recorded (rewritten)"
    ]


# --- keyed hashes ------------------------------------------------------------------------


def test_new_events_are_keyed_and_the_opening_event_states_every_tracked_field(make_case):
    case = make_case()
    opened, assigned = events_of(case)
    assert (opened.version, assigned.version) == (KEYED, KEYED)
    content = canonical(
        case_id=case.pk,
        seq=1,
        kind=opened.kind,
        actor_id=None,
        at=opened.at,
        changes=opened.changes,
        note="",
        data=opened.data,
        prev_hash=GENESIS,
        version=KEYED,
    )
    assert opened.hash == hmac.new(settings.CVX_AUDIT_KEY.encode(), content, hashlib.sha256).hexdigest()
    assert opened.changes["status"] == [None, "new"] and opened.changes["priority"] == [None, "normal"]
    assert opened.changes["contact_count"] == [None, 0] and "owner" not in opened.changes
    assert assigned.changes == {"owner": [None, case.owner_id]}


def test_the_trail_does_not_verify_under_another_key(noted_case, settings):
    audit_checkpoint_create()
    settings.CVX_AUDIT_KEY = "another key of at least thirty-two characters"
    code, _, err = verify_audit()
    assert code == 1
    assert f"BROKEN case {noted_case.number}: event #1" in err and "content does not match its hash" in err
    assert "checkpoint #1: was signed with another key" in err


def test_unkeyed_events_from_before_keying_still_verify_and_are_counted_weaker(make_case, tamper):
    legacy = make_case()
    with tamper() as cursor:  # as the migration left events written before keyed hashing
        rechain(cursor, legacy, note_at=1, note="", version=UNKEYED, key=b"")
    code, out, err = verify_audit()
    assert (code, err) == (0, "")
    assert "2 event(s) from before keyed hashing (version 1) verify without the key" in out
    checkpoint = audit_checkpoint_create()
    assert checkpoint.legacy_max_event_id == events_of(legacy)[-1].pk


def test_an_unkeyed_event_newer_than_the_checkpointed_legacy_bound_is_a_downgrade(make_case, tamper):
    audit_checkpoint_create()  # no legacy events: the bound is 0
    case = make_case()
    with tamper() as cursor:
        rechain(cursor, case, note_at=1, note="", version=UNKEYED, key=b"")
    code, _, err = verify_audit()
    assert code == 1
    assert f"BROKEN case {case.number}: event #1" in err and "newer than the last legacy event" in err


# --- checkpoints ---------------------------------------------------------------------------


def test_checkpoints_are_signed_in_a_chain_and_store_only_the_heads_that_changed(noted_case, make_case, agent):
    other = make_case()
    first = audit_checkpoint_create()
    services.case_note(case_id=other.pk, actor=agent, note="Back tomorrow")
    second = audit_checkpoint_create()
    assert (first.number, second.number, first.prev, second.prev) == (1, 2, GENESIS, first.signature)
    assert (second.case_count, second.event_count) == (2, 4 + 3)
    assert second.max_event_id == CaseEvent.objects.order_by("-pk").first().pk
    key = settings.CVX_AUDIT_KEY.encode()
    from cases.audit.checkpoints import fields_of

    assert sign(fields_of(second), key) == second.signature
    assert sorted(first.heads.values_list("case_id", "seq")) == [(noted_case.pk, 4), (other.pk, 2)]
    assert list(second.heads.values_list("case_id", "seq")) == [(other.pk, 3)]
    assert verify_audit()[0] == 0


def test_a_case_row_edit_moves_no_head_but_the_next_checkpoint_records_it(make_case):
    """The head entry carries a digest of the row's tracked fields."""
    case = make_case()
    audit_checkpoint_create()
    Case.objects.filter(pk=case.pk).update(priority="urgent")  # as the app role could
    second = audit_checkpoint_create()
    assert list(second.heads.values_list("case_id", "seq")) == [(case.pk, 2)]


@pytest.mark.parametrize(
    ("sql", "found"),
    [
        (
            "UPDATE cases_auditcheckpoint SET case_count = case_count + 1 WHERE number = 1",
            "checkpoint #1: its signature does not verify (altered)",
        ),
        (
            "UPDATE cases_auditcheckpointhead SET seq = seq - 1",
            "checkpoint #1: the case heads kept for it (1 cases, 3 events) do not add up to its signed root",
        ),
    ],
    ids=["checkpoint", "head"],
)
def test_an_altered_checkpoint_is_found(noted_case, tamper, sql, found):
    audit_checkpoint_create()
    with tamper() as cursor:
        cursor.execute(sql)
    code, _, err = verify_audit()
    assert code == 1 and f"BROKEN {found}" in err


def test_a_deleted_checkpoint_is_found_in_the_chain_and_a_deleted_latest_one_against_the_archive(
    noted_case, agent, tamper, tmp_path
):
    for note in ("one", "two"):
        audit_checkpoint_create()
        services.case_note(case_id=noted_case.pk, actor=agent, note=note)
    audit_checkpoint_create()
    archive = tmp_path / "checkpoints.jsonl"
    call_command("export_checkpoints", "-o", str(archive), stderr=io.StringIO())
    with tamper() as cursor:
        cursor.execute(
            "DELETE FROM cases_auditcheckpointhead WHERE checkpoint_id IN "
            "(SELECT id FROM cases_auditcheckpoint WHERE number IN (2, 3))"
        )
        cursor.execute("DELETE FROM cases_auditcheckpoint WHERE number = 2")
    code, _, err = verify_audit()
    assert code == 1 and "BROKEN checkpoint #2: missing (deleted or never copied out): the next one is #3" in err
    with tamper() as cursor:
        cursor.execute("DELETE FROM cases_auditcheckpoint WHERE number = 3")
    assert verify_audit()[0] == 0  # the database alone cannot tell its latest checkpoint is gone
    code, _, err = verify_audit("--checkpoints", str(archive))
    assert code == 1
    assert "BROKEN archived checkpoint #2: is missing from the database (deleted)" in err
    assert "BROKEN archived checkpoint #3: is missing from the database (deleted)" in err


def test_an_archive_names_a_vanished_case_after_the_database_lost_every_checkpoint(
    noted_case, make_case, tamper, tmp_path
):
    make_case()
    audit_checkpoint_create()
    archive = tmp_path / "checkpoints.jsonl"
    call_command("export_checkpoints", "-o", str(archive), stderr=io.StringIO())
    code, out, _ = verify_audit("--checkpoints", str(archive))
    assert code == 0 and "Checked against 1 archived checkpoint(s)" in out
    with tamper() as cursor:
        delete_case(cursor, noted_case)
        cursor.execute("DELETE FROM cases_auditcheckpointhead")
        cursor.execute("DELETE FROM cases_auditcheckpoint")
    assert verify_audit()[0] == 0  # nothing in the database remembers it
    code, _, err = verify_audit("--checkpoints", str(archive))
    assert code == 1
    assert (
        f"BROKEN case {noted_case.number}: whole case: the case is gone with its trail; archived checkpoint #1 "
        "recorded 4 event(s)"
    ) in err


def test_export_writes_json_lines_and_since_takes_the_later_checkpoints(noted_case, agent):
    audit_checkpoint_create()
    services.case_note(case_id=noted_case.pk, actor=agent, note="again")
    audit_checkpoint_create()
    out = io.StringIO()
    call_command("export_checkpoints", "--since", "2", stdout=out)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [sorted(r) for r in records] == [["checkpoint"], ["head"]]
    second = AuditCheckpoint.objects.get(number=2)
    assert records[0]["checkpoint"]["signature"] == second.signature
    assert records[1]["head"] == [
        2,
        noted_case.pk,
        5,
        events_of(noted_case)[-1].hash,
        AuditCheckpointHead.objects.get(checkpoint=second).state,
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"checkpoint": {"number": 1}}\n', "line 1: the checkpoint lacks created_at"),
        ('{"head": [1, 2, 3, "x", "y"]}\nnot json\n', "line 2: not a checkpoint archive line"),
    ],
)
def test_an_unreadable_archive_is_refused_naming_the_line(tmp_path, text, reason):
    archive = tmp_path / "archive.jsonl"
    archive.write_text(text)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=reason) as refused:
        call_command("verify_audit", "--checkpoints", str(archive))
    assert refused.value.returncode == 2


# --- incremental verification ----------------------------------------------------------


def test_incremental_verification_finds_what_full_verification_finds(
    make_case, agent, tamper, django_capture_on_commit_callbacks
):
    cases = [make_case() for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        verification_start(kind=VerificationRun.Kind.FULL)
    assert VerificationRun.objects.get().status == VerificationRun.Status.PASSED
    good = last_good_checkpoint()
    assert good is not None
    untouched, noted, edited, cut, fresh = cases[0], cases[1], cases[2], cases[3], make_case()
    services.case_note(case_id=noted.pk, actor=agent, note="Called back")
    services.case_note(case_id=cut.pk, actor=agent, note="Will be cut off")
    audit_checkpoint_create()  # sees the note that is cut off next
    with tamper() as cursor:
        cursor.execute("UPDATE cases_case SET status = 'closed' WHERE id = %s", [edited.pk])
        drop_last_event_and_reset_head(cursor, cut)
        cursor.execute("UPDATE cases_caseevent SET note = 'rewritten' WHERE case_id = %s AND seq = 3", [noted.pk])
    full_code, _, full_err = verify_audit()
    incremental_code, out, incremental_err = verify_audit("--incremental")
    assert full_code == incremental_code == 1
    assert breaks_of(incremental_err) == breaks_of(full_err)
    assert {edited.number, cut.number, noted.number} <= {line.split()[2].rstrip(":") for line in breaks_of(full_err)}
    assert untouched.number not in full_err and fresh.number not in full_err
    # The edited row, the new note and the new case; the cut tail shows against the checkpoint.
    assert f"3 case(s) changed since checkpoint #{good.number} verified" in incremental_err
    # And in the background: the run's own checkpoint records the tampered rows, and still finds the same.
    with django_capture_on_commit_callbacks(execute=True):
        verification_start(kind=VerificationRun.Kind.INCREMENTAL)
    run = VerificationRun.objects.get(kind=VerificationRun.Kind.INCREMENTAL)
    assert (run.baseline, run.status) == (good, VerificationRun.Status.FAILED)
    found = {f"BROKEN {ChainBreak(**item)}" for item in run.breaks}
    assert {b for b in found if b.startswith("BROKEN case")} == {
        b for b in breaks_of(full_err) if b.startswith("BROKEN case")
    }
    # The removed event, said against the checkpoint before the run's own (which counted one event fewer).
    assert {b for b in found if not b.startswith("BROKEN case")} == {
        "BROKEN checkpoint #3: records event count 13, fewer than #2's 14",
        f"BROKEN checkpoint #3: records max event id {run.checkpoint.max_event_id}, "
        f"fewer than #2's {AuditCheckpoint.objects.get(number=2).max_event_id}",
    }


def test_incremental_verification_of_an_intact_trail_reads_only_the_changed_cases(
    make_case, agent, django_capture_on_commit_callbacks
):
    cases = [make_case() for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=True):
        verification_start(kind=VerificationRun.Kind.FULL)
    services.case_note(case_id=cases[0].pk, actor=agent, note="Called back")
    code, out, err = verify_audit("--incremental")
    assert (code, err) == (0, "")
    assert "Audit trail intact: 1 case(s) changed since checkpoint #1 verified." in out


# --- PostgreSQL: the app's role cannot switch the trail's protection off -----------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE cases_caseevent DISABLE TRIGGER USER",
        "ALTER TABLE cases_caseevent DISABLE TRIGGER cvx_caseevent_no_update_delete",
        "ALTER TABLE cases_auditcheckpoint DISABLE TRIGGER USER",
        "DROP TRIGGER cvx_caseevent_no_update_delete ON cases_caseevent",
        "SET session_replication_role = replica",
        "CREATE OR REPLACE FUNCTION cvx_caseevent_append_only() RETURNS trigger AS $$ BEGIN RETURN OLD; END $$ "
        "LANGUAGE plpgsql",
        "ALTER TABLE cases_caseevent OWNER TO CURRENT_USER",
        "UPDATE cases_caseevent SET note = 'rewritten'",
        "DELETE FROM cases_caseevent",
        "TRUNCATE cases_caseevent CASCADE",
        "UPDATE cases_auditcheckpoint SET root = ''",
        "DELETE FROM cases_auditcheckpointhead",
        "INSERT INTO django_migrations (app, name, applied) VALUES ('cases', '9999_fake', now())",
    ],
    ids=[
        "disable-triggers",
        "disable-one-trigger",
        "disable-checkpoint-triggers",
        "drop-trigger",
        "replication-role",
        "replace-function",
        "take-ownership",
        "update-events",
        "delete-events",
        "truncate-events",
        "update-checkpoints",
        "delete-checkpoint-heads",
        "fake-migration",
    ],
)
def test_the_app_role_cannot_switch_off_the_append_only_protection(make_case, sql):
    make_case()
    audit_checkpoint_create()
    with pytest.raises(DatabaseError, match="must be owner|permission denied"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert verify_audit()[0] == 0


@pytest.mark.postgres
def test_the_suite_runs_as_an_app_role_that_owns_nothing_and_may_only_append_audit_rows():
    """`make test` gives the PostgreSQL run two roles (scripts/throwaway_pg.py);
    the owner migrated, the tests run as the app role."""
    owner = (settings.CVX_DATABASE_OWNER or {}).get("USER")
    assert owner, "the PostgreSQL run must set DATABASE_OWNER_URL (make test does)"
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        me, superuser = cursor.fetchone()
        cursor.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = current_schema()")
        owners = {row[0] for row in cursor.fetchall()}
        privileges = {}
        for table in (
            "cases_caseevent",
            "cases_auditcheckpoint",
            "cases_auditcheckpointhead",
            "cases_case",
            "django_migrations",
        ):
            cursor.execute(
                "SELECT "
                + ", ".join(
                    f"has_table_privilege(%s, '{p}')" for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
                ),
                [table] * 5,
            )
            privileges[table] = cursor.fetchone()
    assert (me, superuser, owners) == (settings.CVX_DATABASE_APP_ROLE, False, {owner})
    assert privileges == {
        "cases_caseevent": (True, True, False, False, False),
        "cases_auditcheckpoint": (True, True, False, False, False),
        "cases_auditcheckpointhead": (True, True, False, False, False),
        "cases_case": (True, True, True, True, False),
        "django_migrations": (True, False, False, False, False),
    }


@pytest.mark.postgres
def test_the_owner_role_is_stopped_by_the_triggers_unless_it_switches_them_off(make_case, tamper):
    case = make_case()
    audit_checkpoint_create()
    for table in ("cases_caseevent", "cases_auditcheckpoint"):
        with pytest.raises(psycopg.errors.RestrictViolation, match=f"{table} is append-only|append-only"):
            with tamper(triggers_off=False) as cursor:
                cursor.execute(f"DELETE FROM {table}")
    assert CaseEvent.objects.filter(case=case).count() == 2 and AuditCheckpoint.objects.count() == 1
    assert event_hash(events_of(case)[0]) == events_of(case)[0].hash
