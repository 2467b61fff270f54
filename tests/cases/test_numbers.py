"""Case numbers: one format and one parser (cases.numbers), which the model,
pages, API, messages and the audit filter all use."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.forms import AuditFilterForm
from cases.models import Case
from cases.numbers import case_number, parse_case_number
from cvx_site.inputs import MAX_ID


@pytest.mark.parametrize(
    ("case_id", "number"),
    [
        (1, "CX-000001"),
        (42, "CX-000042"),
        (999_999, "CX-999999"),
        (1_000_000, "CX-1000000"),
        (MAX_ID, f"CX-{MAX_ID}"),
        (None, "CX-new"),
    ],
)
def test_case_number_pads_to_six_digits_and_grows_past_them(case_id, number):
    assert case_number(case_id) == number


@pytest.mark.parametrize("text", ["CX-000042", "cx-000042", "Cx-42", "CX-42", "000042", "42", "  CX-000042 \n"])
def test_parse_case_number_reads_what_people_type(text):
    assert parse_case_number(text) == 42


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "CX-",
        "CX-0",
        "0",
        "CX-000000",
        "-1",
        "CX--1",
        "+42",
        "CX-4 2",
        "CX 42",
        "CX42",
        "CX-42x",
        "42.0",
        "1e3",
        "CX-²",
        "CX-٤٢",
        "４２",
        "CX-new",
        "XC-42",
        "CX-CX-42",
        str(MAX_ID + 1),
        "CX-" + "9" * 25,
        "9" * 5000,
        None,
        42,
        b"CX-42",
    ],
)
def test_parse_case_number_refuses_anything_else(text):
    assert parse_case_number(text) is None


def test_the_largest_id_a_table_holds_reads_back():
    assert parse_case_number(case_number(MAX_ID)) == MAX_ID


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_number_reads_back_as_its_id(case_id):
    assert parse_case_number(case_number(case_id)) == case_id
    assert parse_case_number(case_number(case_id).lower()) == case_id


@given(st.text())
def test_parse_case_number_never_raises_and_gives_only_ids_a_table_can_hold(text):
    case_id = parse_case_number(text)
    assert case_id is None or 1 <= case_id <= MAX_ID


def test_a_case_shows_its_number():
    case = Case(pk=56)
    assert case.number == str(case) == "CX-000056"
    assert Case().number == "CX-new"


@pytest.mark.parametrize(("typed", "case_id"), [("cx-000056", 56), ("56", 56), ("", None), ("  ", None)])
def test_the_audit_filter_reads_a_case_number(typed, case_id):
    form = AuditFilterForm(data={"case": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["case"] == case_id


@pytest.mark.parametrize("typed", ["CX-0", "CX-" + "9" * 25, "CX-²", "fifty-six"])
def test_the_audit_filter_names_the_field_for_a_bad_number(typed):
    form = AuditFilterForm(data={"case": typed})
    assert not form.is_valid()
    assert form.errors["case"] == ["Enter a case number like CX-000042."]
