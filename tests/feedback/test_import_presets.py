"""`manage.py import_feedback` reading survey-tool exports: presets, column
mappings (on the command line and saved in the admin), time zones, dry run."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from feedback.models import CustomerIdentity, FeedbackResponse, ImportMapping

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data"
QUALTRICS = DATA / "qualtrics_nps.csv"
SURVEYMONKEY = DATA / "surveymonkey_nps.csv"
TYPEFORM = DATA / "typeform_nps.csv"
SM_COMMENT = "What is the main reason for your score?"


def run(path, *args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), "--no-progress", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stored() -> dict[str, FeedbackResponse]:
    return {r.external_id: r for r in FeedbackResponse.objects.all()}


def emails_of(response: FeedbackResponse) -> set[str]:
    return set(
        CustomerIdentity.objects.filter(customer=response.customer, kind="email").values_list("value", flat=True)
    )


def test_qualtrics_preset_imports_its_export_with_dates_in_the_exports_time_zone(touchpoint):
    out, err = run(QUALTRICS, "--preset", "qualtrics", "--touchpoint", "fault-line", "--map", "comment=Q2_TEXT")
    assert out.strip().splitlines()[-1] == "created 3, duplicate 0, rejected 0"
    assert err == ""
    rows = stored()
    assert set(rows) == {"R_1a2B3c4D5e6F7g8", "R_2b3C4d5E6f7G8h9", "R_3c4D5e6F7g8H9i0"}
    first = rows["R_1a2B3c4D5e6F7g8"]
    assert (first.source, first.touchpoint, first.nps, first.comment) == (
        "qualtrics",
        touchpoint,
        3,
        "The engineer came late, twice",
    )
    # 14:05:33 in America/Denver (row 3 of the export names it), MST in March.
    assert first.occurred_at == datetime(2024, 3, 1, 21, 5, 33, tzinfo=UTC)
    assert emails_of(first) == {"ann@example.com"}
    assert (rows["R_2b3C4d5E6f7G8h9"].nps, rows["R_2b3C4d5E6f7G8h9"].comment) == (10, "Quick and friendly")
    assert (rows["R_3c4D5e6F7g8H9i0"].nps, rows["R_3c4D5e6F7g8H9i0"].customer) == (8, None)


def test_a_reimport_is_idempotent(touchpoint):
    args = ("--preset", "qualtrics", "--touchpoint", "fault-line", "--map", "comment=Q2_TEXT")
    run(QUALTRICS, *args)
    pks = set(FeedbackResponse.objects.values_list("pk", flat=True))
    out, err = run(QUALTRICS, *args)
    assert out.strip() == "created 0, duplicate 3, rejected 0"
    assert err == ""
    assert set(FeedbackResponse.objects.values_list("pk", flat=True)) == pks


def test_tz_overrides_the_time_zone_the_export_names(touchpoint):
    run(QUALTRICS, "--preset", "qualtrics", "--touchpoint", "fault-line", "--tz", "Europe/Berlin")
    # CET is UTC+1 on 1 March.
    assert stored()["R_1a2B3c4D5e6F7g8"].occurred_at == datetime(2024, 3, 1, 13, 5, 33, tzinfo=UTC)


def test_surveymonkey_preset_reads_two_header_rows_and_12_hour_dates(touchpoint):
    out, err = run(
        SURVEYMONKEY,
        *("--preset", "surveymonkey", "--touchpoint", "fault-line", "--tz", "Europe/Berlin"),
        *("--map", f"comment={SM_COMMENT} - Open-Ended Response", "--source", "sm-2024"),
    )
    assert out.strip().splitlines()[-1] == "created 3, duplicate 0, rejected 0"
    assert err == ""
    rows = stored()
    first, second, third = rows["114000000001"], rows["114000000002"], rows["114000000003"]
    assert {r.source for r in rows.values()} == {"sm-2024"}
    assert (first.nps, first.comment) == (3, "Billing was wrong, again")
    assert first.occurred_at == datetime(2024, 3, 1, 13, 5, 33, tzinfo=UTC)
    assert emails_of(first) == {"ann@example.com"}
    # 12:10:05 AM is ten past midnight, Berlin time.
    assert (second.nps, second.occurred_at) == (9, datetime(2024, 3, 1, 23, 10, 5, tzinfo=UTC))
    assert (third.nps, third.comment) == (None, "Just a comment")


def test_typeform_preset_takes_the_response_token_and_utc_dates(touchpoint):
    out, err = run(
        TYPEFORM,
        *("--preset", "typeform", "--touchpoint", "fault-line"),
        *("--map", "comment=What could we do better?", "email=What is your email address?"),
    )
    assert out.strip().splitlines()[-1] == "created 2, duplicate 0, rejected 0"
    assert err == ""
    rows = stored()
    first, second = rows["k2v8s1tq0c9a7x3m"], rows["p9d4h6w2r8z1n5b3"]
    assert (first.source, first.nps, first.comment) == ("typeform", 2, "Support never called back")
    assert first.occurred_at == datetime(2024, 3, 1, 14, 5, 33, tzinfo=UTC)
    assert emails_of(first) == {"ann@example.com"}
    assert (second.nps, second.occurred_at) == (10, datetime(2024, 3, 2, 9, 0, tzinfo=UTC))


def test_a_mapping_saved_in_the_admin_is_used_by_name(client, cx_admin, touchpoint):
    client.force_login(cx_admin)
    page = client.post(
        reverse("admin:feedback_importmapping_add"),
        {
            "name": "sm-berlin",
            "preset": "surveymonkey",
            "columns": f'{{"comment": "{SM_COMMENT}", "email": "Email Address"}}',
            "date_format": "",
            "time_zone": "Europe/Berlin",
            "header_rows": "2",
        },
    )
    assert page.status_code == 302, page.context["adminform"].form.errors
    out, _err = run(SURVEYMONKEY, "--mapping", "sm-berlin", "--touchpoint", "fault-line")
    assert out.strip().splitlines()[-1] == "created 3, duplicate 0, rejected 0"
    first = stored()["114000000001"]
    assert (first.source, first.comment) == ("surveymonkey", "Billing was wrong, again")
    assert first.occurred_at == datetime(2024, 3, 1, 13, 5, 33, tzinfo=UTC)


def test_a_bad_mapping_is_refused_in_the_admin_naming_each_field(client, cx_admin):
    client.force_login(cx_admin)
    page = client.post(
        reverse("admin:feedback_importmapping_add"),
        {
            "name": "broken",
            "preset": "",
            "columns": '{"score": "Q3"}',
            "date_format": "%Y-%m-%d %Q",
            "time_zone": "Mars/Olympus",
            "header_rows": "0",
        },
    )
    assert page.status_code == 200
    errors = page.context["adminform"].form.errors
    assert "'score' is not a CVX field" in errors["columns"][0]
    assert "not a usable date format" in errors["date_format"][0]
    assert "not a time zone name" in errors["time_zone"][0]
    assert errors["header_rows"] == ["From 1 to 10."]
    assert not ImportMapping.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--map", "score=Q1"), "'score' is not a CVX field"),
        (("--map", "comment=Q9_TEXT"), "comment: no column 'Q9_TEXT' in the file's header"),
        (("--map", "nps"), "expected FIELD=COLUMN"),
        (("--mapping", "nowhere"), "no import mapping named 'nowhere'"),
        (("--tz", "Mars/Olympus"), "'Mars/Olympus' is not a time zone name"),
        (("--source", "cvx_survey"), "reserved for the answers to CVX's own surveys"),
    ],
)
def test_a_bad_mapping_is_refused_before_anything_is_imported(touchpoint, args, message):
    with pytest.raises(CommandError, match=message):
        run(QUALTRICS, "--preset", "qualtrics", "--touchpoint", "fault-line", *args)
    assert not FeedbackResponse.objects.exists()


def test_required_fields_without_a_column_or_a_value_are_refused(touchpoint):
    with pytest.raises(
        CommandError, match=r"touchpoint: map a column \(--map touchpoint=COLUMN\) or give --touchpoint"
    ):
        run(QUALTRICS, "--preset", "qualtrics")
    with pytest.raises(CommandError, match="external_id: map a column"):
        run(QUALTRICS, "--map", "nps=Q1", "--source", "qualtrics", "--touchpoint", "fault-line")
    assert not FeedbackResponse.objects.exists()


def test_a_bad_row_is_a_line_error_and_the_rest_import(touchpoint, tmp_path):
    lines = QUALTRICS.read_text().splitlines()
    lines[3] = lines[3].replace("2024-03-01 14:05:33", "1 March 2024", 1)
    lines[4] = lines[4].replace(",10,Promoter,", ",11,Promoter,", 1)
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    out, err = run(path, "--preset", "qualtrics", "--touchpoint", "fault-line", "--map", "comment=Q2_TEXT")
    assert out.strip().splitlines()[-1] == "created 1, duplicate 0, rejected 2"
    assert err.splitlines() == [
        "line 4: occurred_at: '1 March 2024' does not match the date format %Y-%m-%d %H:%M:%S",
        "line 5: nps: Ensure this value is less than or equal to 10.",
    ]
    assert set(stored()) == {"R_3c4D5e6F7g8H9i0"}


def test_a_dry_run_validates_every_row_and_writes_nothing(touchpoint, tmp_path):
    path = tmp_path / "export.csv"
    shutil.copy(SURVEYMONKEY, path)
    with path.open("a") as file:
        file.write("114000000004,431000001,03/02/2024 10:00:00 AM,13/45/2024 10:01:00 AM,,,,,,7,\n")
    args = ("--preset", "surveymonkey", "--touchpoint", "fault-line", "--map", f"comment={SM_COMMENT}")
    out, err = run(path, *args, "--dry-run")
    assert out.strip() == "dry run, nothing written: would have created 3, duplicate 0, rejected 1"
    assert err.splitlines() == [
        "line 6: occurred_at: '13/45/2024 10:01:00 AM' does not match the date format %m/%d/%Y %I:%M:%S %p"
    ]
    assert not FeedbackResponse.objects.exists()
    assert not CustomerIdentity.objects.exists()
    # After a real import, the dry run counts what is already stored as duplicates.
    run(path, *args)
    out, _err = run(path, *args, "--dry-run")
    assert out.strip() == "dry run, nothing written: would have created 0, duplicate 3, rejected 1"
