"""`manage.py import_feedback`: streaming CSV import through the ingestion service."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import CustomerIdentity, FeedbackResponse
from feedback.sentiment import COMMENT_MAX_CHARS
from feedback.services import CONFLICT_MESSAGE

pytestmark = pytest.mark.django_db

HEADER = "touchpoint,source,external_id,nps,comment"


def write_csv(tmp_path, content: str | bytes, name: str = "feedback.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def run(path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stored_ids() -> set[str]:
    return set(FeedbackResponse.objects.values_list("external_id", flat=True))


def test_good_rows_are_stored_with_their_fields(touchpoint, tmp_path):
    path = write_csv(
        tmp_path,
        (
            "\ufeffexternal_id,touchpoint,source,kind,occurred_at,nps,csat,ces,comment,"
            "customer_email,customer_phone,customer_name,metadata\n"
            "r1,fault-line,survey,indirect,2024-05-01T10:00:00+02:00,3,2,6,Waited two hours,"
            'Ann@Example.com,+44 20 7946 0000,Ann,"{""order"": ""A-17""}"\n'
            "r2,fault-line,survey,,,9,,,,,,,\n"
        ),
    )
    out, err = run(path)
    assert out.strip().splitlines()[-1] == "created 2, duplicate 0, rejected 0"
    assert err == ""
    first = FeedbackResponse.objects.get(external_id="r1")
    assert (first.touchpoint, first.source, first.kind) == (touchpoint, "survey", "indirect")
    assert first.occurred_at == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert (first.nps, first.csat, first.ces, first.comment) == (3, 2, 6, "Waited two hours")
    assert first.metadata == {"order": "A-17"}
    assert first.customer.name == "Ann"
    assert set(CustomerIdentity.objects.filter(customer=first.customer).values_list("kind", "value")) == {
        ("email", "ann@example.com"),
        ("phone", "+442079460000"),
    }
    # Blank cells are left out, not sent as "": defaults apply and no customer is made.
    second = FeedbackResponse.objects.get(external_id="r2")
    assert (second.kind, second.nps, second.csat, second.comment, second.customer) == ("direct", 9, None, "", None)
    assert second.metadata == {}


def test_rerunning_the_same_file_creates_nothing_and_counts_duplicates(touchpoint, tmp_path):
    path = write_csv(tmp_path, f"{HEADER}\nfault-line,survey,r1,3,Rude\nfault-line,survey,r2,10,\n")
    run(path)
    first_pks = set(FeedbackResponse.objects.values_list("pk", flat=True))
    out, err = run(path)
    assert out.strip() == "created 0, duplicate 2, rejected 0"
    assert err == ""
    assert set(FeedbackResponse.objects.values_list("pk", flat=True)) == first_pks


def test_changed_content_under_a_stored_key_is_rejected_as_a_conflict(touchpoint, tmp_path):
    run(write_csv(tmp_path, f"{HEADER}\nfault-line,survey,r1,3,Rude\n", "a.csv"))
    out, err = run(write_csv(tmp_path, f"{HEADER}\nfault-line,survey,r1,9,Fine after all\n", "b.csv"))
    assert out.strip() == "created 0, duplicate 0, rejected 1"
    assert err.strip() == f"line 2: external_id: {CONFLICT_MESSAGE}"
    assert FeedbackResponse.objects.get(external_id="r1").nps == 3


BAD_ROWS = [
    pytest.param(
        "fault-line,survey,bad,11,", "line 3: nps: Ensure this value is less than or equal to 10.", id="nps-over-10"
    ),
    pytest.param("nowhere,survey,bad,3,", "line 3: touchpoint: Unknown touchpoint 'nowhere'.", id="unknown-touchpoint"),
    pytest.param(
        "fault-line,survey,bad,,",
        "line 3: Give at least one score (nps, csat, ces, ves) or a comment.",
        id="no-score-no-comment",
    ),
    pytest.param(
        "fault-line,survey,bad,3,,yesterday", "line 3: occurred_at: Datetime has wrong format.", id="bad-date"
    ),
    pytest.param(
        f"fault-line,survey,bad,3,{'x' * (COMMENT_MAX_CHARS + 1)}",
        f"line 3: comment: Ensure this field has no more than {COMMENT_MAX_CHARS} characters.",
        id="comment-over-cap",
    ),
    pytest.param(
        'fault-line,survey,bad,3,,,"{not json"', "line 3: metadata: not a JSON object", id="bad-metadata-json"
    ),
    pytest.param(
        'fault-line,survey,bad,3,,,"[1, 2]"', "line 3: metadata: not a JSON object", id="metadata-not-an-object"
    ),
    pytest.param(
        "fault-line,survey,bad,3,,,,ann@",
        "line 3: customer.email: Enter a valid email address.",
        id="bad-customer-email",
    ),
    pytest.param(b"fault-line,survey,bad,3,caf\xe9", "line 3: not valid UTF-8", id="not-utf-8"),
    pytest.param("fault-line,survey,bad,3,,,,,surplus", "line 3: has 9 fields, the header has 8", id="too-many-fields"),
]


@pytest.mark.parametrize(("bad_row", "report"), BAD_ROWS)
def test_a_bad_row_is_reported_by_line_and_reason_and_its_neighbours_are_kept(touchpoint, tmp_path, bad_row, report):
    header = f"{HEADER},occurred_at,metadata,customer_email\n".encode()

    def good(n):
        return f"fault-line,survey,good{n},8,,,,\n".encode()

    bad = bad_row if isinstance(bad_row, bytes) else bad_row.encode()
    out, err = run(write_csv(tmp_path, header + good(1) + bad + b"\n" + good(2)))
    assert err.strip().startswith(report)
    assert len(err.strip().splitlines()) == 1
    assert stored_ids() == {"good1", "good2"}
    assert out.strip() == "created 2, duplicate 0, rejected 1"


def test_several_reasons_for_one_row_are_joined_on_one_line(touchpoint, tmp_path):
    path = write_csv(tmp_path, "touchpoint,source,external_id,nps,csat\nfault-line,survey,r1,11,9\n")
    _out, err = run(path)
    assert err.strip() == (
        "line 2: nps: Ensure this value is less than or equal to 10.; "
        "csat: Ensure this value is less than or equal to 5."
    )


def test_a_non_utf8_line_inside_a_quoted_comment_rejects_only_that_row(touchpoint, tmp_path):
    content = (
        f"{HEADER}\n".encode()
        + b'fault-line,survey,r1,3,"first line\nsecond caf\xe9 line"\n'
        + b"fault-line,survey,r2,3,\n"
    )
    out, err = run(write_csv(tmp_path, content))
    assert err.strip() == "line 2: not valid UTF-8 (line 3)"
    assert stored_ids() == {"r2"}
    assert out.strip() == "created 1, duplicate 0, rejected 1"


def test_a_multiline_quoted_comment_keeps_later_line_numbers_right(touchpoint, tmp_path):
    path = write_csv(
        tmp_path,
        (
            f"{HEADER}\r\n"
            'fault-line,survey,r1,3,"The line dropped,\r\nthen dropped again\r\nand again"\r\n'
            "fault-line,survey,r2,12,\r\n"
            "\r\n"
            "nowhere,survey,r3,3,\r\n"
        ),
    )
    out, err = run(path)
    assert err.strip().splitlines() == [
        "line 5: nps: Ensure this value is less than or equal to 10.",
        "line 7: touchpoint: Unknown touchpoint 'nowhere'.",
    ]
    assert FeedbackResponse.objects.get(external_id="r1").comment == (
        "The line dropped,\r\nthen dropped again\r\nand again"
    )
    assert out.strip() == "created 1, duplicate 0, rejected 2"


def test_a_missing_required_column_is_an_error_naming_it_and_nothing_is_stored(touchpoint, tmp_path):
    path = write_csv(tmp_path, "touchpoint,nps,comment\nfault-line,3,Rude\n")
    with pytest.raises(CommandError, match="missing required column\\(s\\): source, external_id"):
        run(path)
    assert FeedbackResponse.objects.count() == 0


def test_an_empty_file_is_an_error(touchpoint, tmp_path):
    with pytest.raises(CommandError, match="header row is required"):
        run(write_csv(tmp_path, ""))


def test_unknown_columns_are_warned_about_once_and_ignored(touchpoint, tmp_path):
    path = write_csv(tmp_path, f"{HEADER},colour\nfault-line,survey,r1,3,,red\nfault-line,survey,r2,4,,blue\n")
    out, err = run(path)
    assert err.strip() == "warning: ignoring unknown column(s): 'colour'"
    assert out.strip() == "created 2, duplicate 0, rejected 0"
    assert FeedbackResponse.objects.get(external_id="r1").metadata == {}


def test_a_file_that_cannot_be_opened_is_an_error_naming_it(tmp_path):
    missing = tmp_path / "nope.csv"
    with pytest.raises(CommandError, match=f"cannot open {missing}: No such file"):
        run(missing)


def test_a_file_over_the_size_limit_is_refused_before_importing(touchpoint, tmp_path, settings):
    path = write_csv(tmp_path, f"{HEADER}\nfault-line,survey,r1,3,\n")
    with pytest.raises(CommandError, match="over the limit of 10 bytes"):
        run(path, "--max-bytes", "10")
    settings.CVX_IMPORT_MAX_BYTES = 20
    with pytest.raises(CommandError, match="over the limit of 20 bytes"):
        run(path)
    assert FeedbackResponse.objects.count() == 0


def test_rows_are_sent_in_batches_and_inserted_in_bulk(touchpoint, tmp_path):
    occurred = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    rows = "".join(f"fault-line,survey,r{n},{n % 11},,{occurred}\n" for n in range(2500))
    path = write_csv(tmp_path, f"{HEADER},occurred_at\n{rows}")
    with CaptureQueriesContext(connection) as queries:
        out, _err = run(path, "--batch-size", "1000")
    sqls = [q["sql"] for q in queries.captured_queries]
    # One touchpoint lookup per call to the service: three batches, not 2,500 calls.
    assert sum('FROM "journeys_touchpoint"' in sql for sql in sqls) == 3
    # The backend caps the rows of one INSERT (999 parameters on SQLite, so
    # ~58 rows): 3 batches need at most this many. PostgreSQL takes a batch's
    # ids from the sequence in one query, then one COPY (not in the query log).
    fields = [f for f in FeedbackResponse._meta.concrete_fields if not f.primary_key]
    rows_per_insert = connection.ops.bulk_batch_size(fields, [FeedbackResponse()] * 1000)
    inserts = [
        sql
        for sql in sqls
        if sql.startswith('INSERT INTO "feedback_feedbackresponse"')
        or ("nextval" in sql and "'feedback_feedbackresponse'" in sql)
    ]
    assert 3 <= len(inserts) <= 3 * (math.ceil(1000 / rows_per_insert) + 1)
    assert len(inserts) < 2500 / 40
    assert FeedbackResponse.objects.count() == 2500
    assert out.strip() == "created 2500, duplicate 0, rejected 0"


def test_the_progress_bar_goes_to_stderr_and_counts_stay_on_stdout(touchpoint, tmp_path):
    path = write_csv(tmp_path, f"{HEADER}\nfault-line,survey,r1,3,\n")
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), stdout=out, stderr=err)
    assert "100%" in err.getvalue()
    assert out.getvalue().strip() == "created 1, duplicate 0, rejected 0"
