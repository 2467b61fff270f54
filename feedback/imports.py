"""Column mappings and survey-tool presets for `manage.py import_feedback`.

A *layout* says how to read a CSV export that is not in CVX's own format:
how many header rows it has, which source column feeds which CVX field, and
how its dates are written (format and time zone). It comes from a preset
(`--preset`), a mapping saved in the admin (`ImportMapping`, `--mapping`)
and `--map FIELD=COLUMN` pairs, later ones overriding earlier ones per field.

The presets, and what each is based on:

- `qualtrics`: the Qualtrics "Understanding your dataset" support page (CSV
  download, "Use choice text") and public Qualtrics exports seen in code
  search: three header rows, (1) column ids (`StartDate`, `EndDate`,
  `ResponseId`, `RecipientEmail`, `Q1`, `Q1_NPS_GROUP`, ...), (2) question
  text, (3) JSON per column such as `{"ImportId":"endDate","timeZone":
  "America/Denver"}`. Dates are `2024-03-01 14:05:33` in the export's time
  zone, which row 3 names on date columns: it is used unless `--tz` says
  otherwise.
- `surveymonkey`: SurveyMonkey's "All responses data" CSV export (as
  described in the issue; the stored search corpus held only old user
  manuals): two header rows, the question in row 1 (blank where a question
  spans several columns) and the sub-answer in row 2 (`Response`,
  `Open-Ended Response`, or an option); `Respondent ID`, `Collector ID`,
  `Start Date`, `End Date`, `Email Address` columns; dates `03/01/2024
  02:05:33 PM`, in the account's time zone (give `--tz`; UTC otherwise).
- `typeform`: Typeform's responses CSV download (as described in the issue;
  the API reference confirms submission times are UTC): one header row of
  question titles plus `#` (the response token), `Network ID`, `Start Date
  (UTC)`, `Submit Date (UTC)` / `Submitted At`; dates `2024-03-01 14:05:33`.

The NPS question has no fixed column id in any tool, so presets find it by
its standard wording ("How likely ... recommend"), in any header row; the
comment question has no standard wording and is given with `--map`.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

# The CVX fields a source column may feed: the columns of the CSV format
# (README, "Importing a CSV file"), plus short names for the customer's.
FEEDBACK_FIELDS = (
    "touchpoint",
    "source",
    "external_id",
    "kind",
    "occurred_at",
    "nps",
    "csat",
    "ces",
    "ves",
    "comment",
    "metadata",
    "customer_external_id",
    "customer_email",
    "customer_phone",
    "customer_social",
    "customer_name",
)
FIELD_ALIASES = {
    "email": "customer_email",
    "phone": "customer_phone",
    "social": "customer_social",
    "name": "customer_name",
}
MAX_HEADER_ROWS = 10
DATE_FIELD = "occurred_at"
_NPS_WORDING = r"(?is).*how likely.*recommend.*"


@dataclass(frozen=True)
class Preset:
    header_rows: int
    date_format: str
    # CVX field -> patterns (full, case-insensitive) a column's header cells
    # are matched against; the first column matching any of them is used.
    columns: Mapping[str, Sequence[str]]
    # Row (0-based) holding each column's JSON with its time zone (Qualtrics).
    tz_row: int | None = None


PRESETS: dict[str, Preset] = {
    "qualtrics": Preset(
        header_rows=3,
        date_format="%Y-%m-%d %H:%M:%S",
        columns={
            "external_id": ["ResponseId"],
            "occurred_at": ["EndDate"],
            "customer_email": ["RecipientEmail"],
            "customer_external_id": ["ExternalReference", "ExternalDataReference"],
            "nps": [_NPS_WORDING],
        },
        tz_row=2,
    ),
    "surveymonkey": Preset(
        header_rows=2,
        date_format="%m/%d/%Y %I:%M:%S %p",
        columns={
            "external_id": ["Respondent ID"],
            "occurred_at": ["End Date"],
            "customer_email": ["Email Address"],
            "nps": [_NPS_WORDING],
        },
    ),
    "typeform": Preset(
        header_rows=1,
        date_format="%Y-%m-%d %H:%M:%S",
        columns={
            "external_id": ["#", "Response ID"],
            "occurred_at": ["Submitted At", r"Submit Date \(UTC\)"],
            "nps": [_NPS_WORDING],
        },
    ),
}


class LayoutError(ValueError):
    """A mapping that cannot be used: the message names the field and why."""


def field_name(raw: str) -> str:
    """The CVX field `raw` names (aliases resolved), or LayoutError."""
    name = raw.strip().lower()
    name = FIELD_ALIASES.get(name, name)
    if name not in FEEDBACK_FIELDS:
        raise LayoutError(
            f"{raw!r} is not a CVX field; use one of {', '.join(FEEDBACK_FIELDS)} (or {', '.join(FIELD_ALIASES)})."
        )
    return name


def parse_map_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """`["nps=Q3", "comment=Q4_TEXT"]` -> {field: column}; LayoutError on a
    pair without "=", an unknown field, an empty column or a field twice."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        raw_field, sep, column = pair.partition("=")
        if not sep or not column.strip():
            raise LayoutError(f"--map {pair!r}: expected FIELD=COLUMN, e.g. nps=Q3.")
        name = field_name(raw_field)
        if name in mapping:
            raise LayoutError(f"--map: {name} is mapped twice.")
        mapping[name] = column.strip()
    return mapping


def check_columns(columns: object) -> dict[str, str]:
    """A saved mapping's column pairs, checked: a JSON object of CVX field ->
    non-empty column name."""
    if not isinstance(columns, Mapping):
        raise LayoutError('Expected a JSON object of CVX field -> source column, e.g. {"nps": "Q3"}.')
    checked: dict[str, str] = {}
    for raw_field, column in columns.items():
        name = field_name(str(raw_field))
        if not isinstance(column, str) or not column.strip():
            raise LayoutError(f"{name}: the source column must be a non-empty text.")
        if name in checked:
            raise LayoutError(f"{name} is mapped twice.")
        checked[name] = column.strip()
    return checked


def check_date_format(value: str) -> str:
    """A strptime format that reads back what it writes, or LayoutError."""
    if "%" not in value:
        raise LayoutError(f"{value!r} has no % directive; e.g. %Y-%m-%d %H:%M:%S.")
    sample = datetime(2024, 3, 1, 14, 5, 33)
    try:
        datetime.strptime(sample.strftime(value), value)
    except ValueError as exc:
        raise LayoutError(f"{value!r} is not a usable date format: {exc}.") from None
    return value


def check_time_zone(value: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise LayoutError(f"{value!r} is not a time zone name such as Europe/Berlin or UTC.") from None


@dataclass
class Layout:
    """How to read one export; built by `layout_from`, bound to a file's
    header rows by `bind`."""

    header_rows: int = 1
    date_format: str = ""
    time_zone: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # explicit: must exist
    patterns: dict[str, Sequence[str]] = field(default_factory=dict)  # preset defaults: used if found
    tz_row: int | None = None


def layout_from(
    *,
    preset: str = "",
    saved=None,
    pairs: Sequence[str] = (),
    time_zone: str = "",
) -> Layout:
    """The layout of a preset, then a saved ImportMapping, then `--map`
    pairs and `--tz`, later ones winning. LayoutError when any is bad."""
    layout = Layout()
    preset = preset or (saved.preset if saved is not None else "")
    if preset:
        if preset not in PRESETS:
            raise LayoutError(f"Unknown preset {preset!r}; use one of {', '.join(PRESETS)}.")
        chosen = PRESETS[preset]
        layout.header_rows, layout.date_format = chosen.header_rows, chosen.date_format
        layout.patterns, layout.tz_row = dict(chosen.columns), chosen.tz_row
    if saved is not None:
        layout.header_rows = saved.header_rows
        layout.date_format = saved.date_format or layout.date_format
        layout.time_zone = saved.time_zone
        layout.columns.update(check_columns(saved.columns))
    layout.columns.update(parse_map_pairs(pairs))
    if time_zone:
        layout.time_zone = time_zone
    if layout.time_zone:
        check_time_zone(layout.time_zone)
    if layout.date_format:
        check_date_format(layout.date_format)
    return layout


@dataclass
class BoundLayout:
    """A layout matched to a file: the position of each mapped field, and
    how to turn one record into the importer's named cells."""

    positions: dict[str, int]
    date_format: str
    time_zone: zoneinfo.ZoneInfo | None
    constants: dict[str, str] = field(default_factory=dict)  # field -> value of every row (--source)
    width: int = 0  # columns in the header

    def cells(self, record: Sequence[str]) -> dict[str, str]:
        """CVX field -> cell; occurred_at converted to ISO 8601 in UTC when
        the layout has a date format or a time zone (ValueError if it does
        not match, with the reason)."""
        named = {name: record[pos] for name, pos in self.positions.items() if pos < len(record)}
        raw = named.get(DATE_FIELD, "").strip()
        if raw and (self.date_format or self.time_zone):
            named[DATE_FIELD] = self.to_utc(raw)
        return named

    def to_utc(self, raw: str) -> str:
        try:
            moment = datetime.strptime(raw, self.date_format) if self.date_format else datetime.fromisoformat(raw)
        except ValueError:
            expected = self.date_format or "ISO 8601"
            raise ValueError(f"{DATE_FIELD}: {raw!r} does not match the date format {expected}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.time_zone or UTC)
        return moment.astimezone(UTC).isoformat()


def bind(layout: Layout, header: Sequence[Sequence[str]]) -> BoundLayout:
    """Match the layout to the file's header rows. A column is named by any
    of its header cells (SurveyMonkey's row-1 question also by "question -
    sub-answer"). LayoutError, naming the field, when an explicitly mapped
    column is missing or ambiguous."""
    width = max((len(row) for row in header), default=0)
    names = _column_names(header, width)
    positions: dict[str, int] = {}
    problems = []
    for name, column in layout.columns.items():
        found = [pos for pos, cells in enumerate(names) if column.casefold() in cells]
        if not found:
            problems.append(f"{name}: no column {column!r} in the file's header")
        elif len(found) > 1:
            problems.append(f"{name}: {column!r} names {len(found)} columns ({', '.join(str(p + 1) for p in found)})")
        else:
            positions[name] = found[0]
    if problems:
        raise LayoutError("; ".join(problems) + ".")
    for name, patterns in layout.patterns.items():
        if name in positions:
            continue
        for pattern in patterns:
            regex = re.compile(pattern, re.IGNORECASE)
            pos = next(
                (p for p, cells in enumerate(header_cells(header, width)) if any(regex.fullmatch(c) for c in cells)),
                None,
            )
            if pos is not None:
                positions[name] = pos
                break
    tz = check_time_zone(layout.time_zone) if layout.time_zone else None
    if tz is None and layout.tz_row is not None and DATE_FIELD in positions and layout.tz_row < len(header):
        tz = _time_zone_in(header[layout.tz_row], positions[DATE_FIELD])
    return BoundLayout(positions=positions, date_format=layout.date_format, time_zone=tz)


def header_cells(header: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    """Each column's stripped, non-empty header cells, row by row."""
    return [[row[pos].strip() for row in header if pos < len(row) and row[pos].strip()] for pos in range(width)]


def _column_names(header: Sequence[Sequence[str]], width: int) -> list[set[str]]:
    columns = header_cells(header, width)
    names = [{cell.casefold() for cell in cells} for cells in columns]
    if len(header) >= 2:
        # A question spanning several columns names only its first one in
        # row 1; each of its columns is also "question - sub-answer".
        question = ""
        for pos in range(width):
            top = header[0][pos].strip() if pos < len(header[0]) else ""
            question = top or question
            sub = header[1][pos].strip() if pos < len(header[1]) else ""
            if question and sub:
                names[pos].add(f"{question} - {sub}".casefold())
    return names


def _time_zone_in(row: Sequence[str], pos: int) -> zoneinfo.ZoneInfo | None:
    """The time zone named by a Qualtrics row-3 cell such as
    {"ImportId":"endDate","timeZone":"America/Denver"}, if any."""
    try:
        data = json.loads(row[pos]) if pos < len(row) else None
    except ValueError:
        return None
    name = data.get("timeZone") if isinstance(data, dict) else None
    if not isinstance(name, str):
        return None
    try:
        return check_time_zone(name)
    except LayoutError:
        return None
