"""Import feedback from a CSV file through the ingestion service."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from feedback.choices import RESERVED_SOURCES
from feedback.imports import PRESETS, BoundLayout, LayoutError, bind, layout_from
from feedback.models import ImportMapping
from feedback.services import CREATED, DUPLICATE, feedback_check_many, feedback_ingest_many
from journeys.models import Touchpoint

REQUIRED_COLUMNS = ("touchpoint", "source", "external_id")
FEEDBACK_COLUMNS = REQUIRED_COLUMNS + ("kind", "occurred_at", "nps", "csat", "ces", "ves", "comment", "metadata")
# CSV column -> key of the service's nested `customer` object.
CUSTOMER_COLUMNS = {
    "customer_external_id": "external_id",
    "customer_email": "email",
    "customer_phone": "phone",
    "customer_social": "social",
    "customer_name": "name",
}
KNOWN_COLUMNS = frozenset(FEEDBACK_COLUMNS) | frozenset(CUSTOMER_COLUMNS)
DEFAULT_BATCH_SIZE = 1000
DEFAULT_MAX_BYTES = 2 * 1024**3
# A valid row is a few tens of KB at most (comment and metadata are capped);
# the cap keeps one runaway line from costing its whole size in memory.
MAX_LINE_BYTES = 1024 * 1024
# A dry run reports this many rejected rows, then only counts the rest.
DRY_RUN_SHOWN_ERRORS = 20


@dataclass
class Row:
    """One CSV record: its first physical line, and either the item for the
    service or the reasons it was rejected before reaching it."""

    line: int
    item: dict | None = None
    reasons: list[str] = field(default_factory=list)


class LineSource:
    """The physical lines of a binary file, each decoded as UTF-8 on its own,
    so a badly encoded line spoils only the record it belongs to.

    Problems found while reading are collected until `take_problems()`; as
    csv.reader never reads past the end of the record it returns, everything
    collected since the previous record belongs to the current one.
    """

    def __init__(self, file: BinaryIO):
        self.file = file
        self.line = 0
        self.bytes_read = 0
        self._problems: list[tuple[int, str]] = []

    def __iter__(self) -> Iterator[str]:
        while raw := self.file.readline(MAX_LINE_BYTES + 1):
            self.line += 1
            self.bytes_read += len(raw)
            if len(raw) > MAX_LINE_BYTES:
                if not raw.endswith(b"\n"):
                    self._skip_rest_of_line()
                self._problems.append((self.line, f"longer than {MAX_LINE_BYTES} bytes"))
                yield "\n"
                continue
            try:
                yield raw.decode("utf-8-sig" if self.line == 1 else "utf-8")
            except UnicodeDecodeError:
                self._problems.append((self.line, "not valid UTF-8"))
                yield raw.decode("utf-8", errors="replace")

    def _skip_rest_of_line(self) -> None:
        while chunk := self.file.readline(MAX_LINE_BYTES):
            self.bytes_read += len(chunk)
            if chunk.endswith(b"\n"):
                return

    def take_problems(self) -> list[tuple[int, str]]:
        problems, self._problems = self._problems, []
        return problems


def read_records(lines: LineSource) -> Iterator[tuple[int, list[str] | None, list[str]]]:
    """(first line, cells or None when unparseable, reasons) per CSV record."""
    reader = csv.reader(lines)
    while True:
        first = lines.line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield first, None, _problem_reasons(first, lines.take_problems()) + [f"not valid CSV: {exc}"]
            continue
        yield first, cells, _problem_reasons(first, lines.take_problems())


def _problem_reasons(first: int, problems: list[tuple[int, str]]) -> list[str]:
    return [message if line == first else f"{message} (line {line})" for line, message in problems]


def row_from_cells(line: int, cells: list[str], columns: list[str | None]) -> Row:
    """Map one record to the service's item shape: blank cells are left out,
    customer_* cells become the nested `customer`, metadata is parsed JSON."""
    if any(cell.strip() for cell in cells[len(columns) :]):
        return Row(line, reasons=[f"has {len(cells)} fields, the header has {len(columns)}"])
    values = {name: cell for name, cell in zip(columns, cells) if name is not None and cell.strip()}
    return row_from_values(line, values)


def row_from_values(line: int, values: Mapping[str, str]) -> Row:
    """The service's item from CVX field -> non-blank cell."""
    item = {name: value for name, value in values.items() if name in FEEDBACK_COLUMNS}
    customer = {CUSTOMER_COLUMNS[name]: value for name, value in values.items() if name in CUSTOMER_COLUMNS}
    if customer:
        item["customer"] = customer
    if "metadata" in item:
        try:
            metadata = json.loads(item["metadata"])
        except (ValueError, RecursionError):  # RecursionError: nested too deep for the decoder
            metadata = None
        if not isinstance(metadata, dict):
            return Row(line, reasons=["metadata: not a JSON object"])
        item["metadata"] = metadata
    return Row(line, item=item)


def read_header(
    path: Path, records: Iterator, required: Sequence[str], known: Set[str], *, warn: Callable[[str], object]
) -> list[str | None]:
    """Column name per position (None for a column not in `known`, which
    `warn` is told of) from the first non-blank record; a CommandError when
    the header is missing or unreadable, repeats a column or lacks one of
    `required`. The header rule of every CSV command here."""
    for _line, cells, reasons in records:
        if cells is None or reasons:
            raise CommandError(f"{path}: cannot read the header row: {'; '.join(reasons)}")
        if any(cell.strip() for cell in cells):
            break
    else:
        raise CommandError(f"{path}: the file is empty; a header row is required.")
    names = [cell.strip().lower() for cell in cells]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise CommandError(f"{path}: repeated column(s) in the header: {', '.join(repeated)}")
    missing = [name for name in required if name not in names]
    if missing:
        raise CommandError(f"{path}: missing required column(s): {', '.join(missing)}")
    unknown = [cell for cell, name in zip(cells, names) if name not in known]
    if unknown:
        warn(f"warning: ignoring unknown column(s): {', '.join(map(repr, unknown))}")
    return [name if name in known else None for name in names]


def error_reasons(errors: Mapping, prefix: str = "") -> list[str]:
    """The service's field -> messages tree as `field: message` strings;
    nested fields are dotted (`customer.email`), non-field messages bare."""
    reasons = []
    for key, value in errors.items():
        name = prefix if key == "non_field_errors" else f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            reasons += error_reasons(value, name)
            continue
        for message in value if isinstance(value, list) else [value]:
            reasons.append(f"{name}: {message}" if name else str(message))
    return reasons


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


class Command(BaseCommand):
    """`manage.py import_feedback PATH.csv` — what callers may rely on:

    - Every row goes through `feedback.services.feedback_ingest_many`, in
      batches of `--batch-size` rows (default 1,000), each batch in its own
      transaction; valid rows are kept whatever happens to the others.
    - Re-running is safe: rows already stored (same source and external_id,
      same content) count as duplicates and write nothing.
    - Each rejected row is one stderr line, `line N: field: message`
      (several reasons joined by "; "), N being the row's first physical
      line. Conflicts, keys of erased responses, sources reserved for CVX's
      own surveys, bad JSON metadata and non-UTF-8 lines are rejections;
      no row, however malformed, stops the run.
    - The last stdout line is `created C, duplicate D, rejected R`.
    - Exit status 0 once the file has been read, even if rows were rejected
      (check R); 1 (CommandError) before anything is imported when the file
      cannot be opened, is larger than `--max-bytes`, has no header row, or
      lacks a required column.
    - Memory does not grow with the file: it is read line by line and only
      one batch is held at a time.
    - `--preset`, `--mapping NAME` and `--map FIELD=COLUMN` read a survey
      tool's export instead (feedback.imports): its header rows, columns and
      date format; `--tz` its time zone. A bad mapping, or a mapped column
      the header lacks, is a CommandError before anything is imported; a
      date not in the format is a rejected row.
    - `--dry-run` validates every row as the import would (the same
      validator, `feedback_check_many`) and writes nothing; the last line is
      `dry run, nothing written: would have created C, duplicate D,
      rejected R`, after the first 20 rejected rows.
    """

    help = (
        "Import feedback from a UTF-8 CSV file with a header row. Required columns: touchpoint, source, "
        "external_id; optional: kind, occurred_at, nps, csat, ces, ves, comment, metadata (a JSON object), "
        "customer_external_id, customer_email, customer_phone, customer_social, customer_name. Unknown "
        "columns are ignored with a warning. Safe to run again. Exits 0 even when rows are rejected: "
        "each is reported on stderr and counted in the final line. Survey-tool exports: --preset, --mapping, "
        "--map, --tz (see README)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The CSV file.")
        parser.add_argument(
            "--batch-size",
            type=_positive_int,
            default=DEFAULT_BATCH_SIZE,
            help=f"Rows per call to the ingestion service and per transaction (default {DEFAULT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--max-bytes",
            type=_positive_int,
            default=None,
            help="Refuse larger files (default settings.CVX_IMPORT_MAX_BYTES, else 2 GiB).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")
        mapped = parser.add_argument_group(
            "survey-tool exports",
            "Read a CSV that is not in CVX's format: a preset, a mapping saved in the admin, and/or "
            "FIELD=COLUMN pairs (later ones win per field).",
        )
        mapped.add_argument("--preset", choices=sorted(PRESETS), help="The export's tool: header rows, dates, columns.")
        mapped.add_argument("--mapping", metavar="NAME", help="An import mapping saved in the admin.")
        mapped.add_argument(
            "--map",
            metavar="FIELD=COLUMN",
            nargs="+",
            action="extend",
            default=[],
            dest="pairs",
            help="CVX field = source column, e.g. nps=Q3 comment=Q4_TEXT email=RecipientEmail occurred_at=EndDate.",
        )
        mapped.add_argument(
            "--tz", default="", help="Time zone of the export's dates, e.g. Europe/Berlin (default UTC)."
        )
        mapped.add_argument("--source", default="", help="Source of every row (default: the preset's name).")
        mapped.add_argument("--touchpoint", default="", help="Touchpoint slug of every row, unless a column is mapped.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate every row as an import would and report the counts and first errors; write nothing.",
        )

    def handle(
        self,
        *args,
        path: Path,
        batch_size: int,
        max_bytes: int | None,
        no_progress: bool,
        dry_run: bool = False,
        **options,
    ):
        layout = self._layout(options)
        if max_bytes is None:
            max_bytes = getattr(settings, "CVX_IMPORT_MAX_BYTES", None) or DEFAULT_MAX_BYTES
        file, size = _open(path, max_bytes)
        with file:
            lines = LineSource(file)
            records = read_records(lines)
            columns: list[str | None] | BoundLayout
            if layout is None:
                columns = read_header(path, records, REQUIRED_COLUMNS, KNOWN_COLUMNS, warn=self.stderr.write)
            else:
                columns = self._read_mapped_header(path, records, layout, options)
            counts: Counter[str] = Counter()
            bar = tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=path.name,
                file=getattr(self.stderr, "_out", sys.stderr),
                disable=no_progress,
            )
            with bar:
                for batch in _batches(records, columns, batch_size):
                    self._import_batch(batch, counts, bar, dry_run=dry_run)
                    bar.update(lines.bytes_read - bar.n)
        summary = f"created {counts[CREATED]}, duplicate {counts[DUPLICATE]}, rejected {counts['rejected']}"
        if dry_run:
            hidden = counts["rejected"] - min(counts["rejected"], DRY_RUN_SHOWN_ERRORS)
            if hidden:
                self.stderr.write(f"... and {hidden} more rejected row(s)")
            summary = f"dry run, nothing written: would have {summary}"
        self.stdout.write(summary)

    def _layout(self, options: dict):
        """The layout of a survey-tool export, None for CVX's own format;
        CommandError naming the problem before the file is read."""
        preset, name, pairs = options.get("preset") or "", options.get("mapping") or "", options.get("pairs") or []
        extras = [f"--{key}" for key in ("tz", "source", "touchpoint") if options.get(key)]
        if not (preset or name or pairs):
            if extras:
                raise CommandError(f"{', '.join(extras)} need --preset, --mapping or --map.")
            return None
        saved = None
        if name:
            saved = ImportMapping.objects.filter(name=name).first()
            if saved is None:
                known = ", ".join(ImportMapping.objects.values_list("name", flat=True)) or "none saved"
                raise CommandError(f"--mapping: no import mapping named {name!r} ({known}).")
        try:
            layout = layout_from(preset=preset, saved=saved, pairs=pairs, time_zone=options.get("tz") or "")
        except LayoutError as exc:
            raise CommandError(str(exc)) from None
        source = options.get("source") or preset or (saved.preset if saved else "")
        if source.lower() in RESERVED_SOURCES:
            raise CommandError(f"--source: {source!r} is reserved for the answers to CVX's own surveys.")
        if (touchpoint := options.get("touchpoint")) and not Touchpoint.objects.filter(slug=touchpoint).exists():
            raise CommandError(f"--touchpoint: no touchpoint {touchpoint!r}.")
        options["source"] = source
        return layout

    def _read_mapped_header(self, path: Path, records: Iterator, layout, options: dict) -> BoundLayout:
        header = []
        for _line, cells, reasons in records:
            if cells is None or reasons:
                raise CommandError(f"{path}: cannot read header row {len(header) + 1}: {'; '.join(reasons)}")
            header.append(cells)
            if len(header) == layout.header_rows:
                break
        else:
            raise CommandError(f"{path}: expected {layout.header_rows} header row(s), found {len(header)}.")
        try:
            bound = bind(layout, header)
        except LayoutError as exc:
            raise CommandError(f"{path}: {exc}") from None
        constants_allowed = ("source", "touchpoint")
        constants = {key: options[key] for key in constants_allowed if options.get(key)}
        missing = [
            f"{name}: map a column (--map {name}=COLUMN){f' or give --{name}' if name in constants_allowed else ''}"
            for name in REQUIRED_COLUMNS
            if name not in bound.positions and name not in constants
        ]
        if missing:
            raise CommandError(f"{path}: {'; '.join(missing)}.")
        bound.constants = constants
        bound.width = max(len(row) for row in header)
        return bound

    def _import_batch(self, batch: list[Row], counts: Counter, bar: tqdm, dry_run: bool = False) -> None:
        items = [row.item for row in batch if row.item is not None]
        service = feedback_check_many if dry_run else feedback_ingest_many
        outcomes = iter(service(items=items) if items else [])
        rejections = []
        for row in batch:
            reasons = row.reasons
            if row.item is not None:
                outcome = next(outcomes)
                if outcome.status in (CREATED, DUPLICATE):
                    counts[outcome.status] += 1
                    continue
                reasons = error_reasons(outcome.errors)
            counts["rejected"] += 1
            if not dry_run or counts["rejected"] <= DRY_RUN_SHOWN_ERRORS:
                rejections.append(f"line {row.line}: {'; '.join(reasons)}")
        if rejections:
            # Clear the bar while writing so reports do not land mid-bar.
            with tqdm.external_write_mode(file=bar.fp) if not bar.disable else contextlib.nullcontext():
                for message in rejections:
                    self.stderr.write(message)


def _open(path: Path, max_bytes: int) -> tuple[BinaryIO, int]:
    """The file opened for binary reading and its size, or CommandError."""
    try:
        file = path.open("rb")
    except OSError as exc:
        raise CommandError(f"cannot open {path}: {exc.strerror or exc}") from exc
    info = os.fstat(file.fileno())
    if not stat.S_ISREG(info.st_mode):
        file.close()
        raise CommandError(f"cannot import {path}: not a regular file")
    if info.st_size > max_bytes:
        file.close()
        raise CommandError(f"{path} is {info.st_size:,} bytes, over the limit of {max_bytes:,} bytes (--max-bytes).")
    return file, info.st_size


def mapped_row(line: int, cells: list[str], layout: BoundLayout) -> Row:
    """A survey-tool record as the service's item: the mapped cells, dates
    read in the export's format and time zone, the constant fields."""
    if any(cell.strip() for cell in cells[layout.width :]):
        return Row(line, reasons=[f"has {len(cells)} fields, the header has {layout.width}"])
    try:
        named = layout.cells(cells)
    except ValueError as exc:
        return Row(line, reasons=[str(exc)])
    values = {name: cell for name, cell in named.items() if cell.strip()}
    for name, value in layout.constants.items():
        values.setdefault(name, value)
    return row_from_values(line, values)


def _batches(records: Iterator, columns: list[str | None] | BoundLayout, size: int) -> Iterator[list[Row]]:
    """Rows of at most `size`, blank records skipped; rejected rows ride
    along so reports come out in file order."""
    batch: list[Row] = []
    for line, cells, reasons in records:
        if reasons or cells is None:
            batch.append(Row(line, reasons=reasons))
        elif any(cell.strip() for cell in cells):
            if isinstance(columns, BoundLayout):
                batch.append(mapped_row(line, cells, columns))
            else:
                batch.append(row_from_cells(line, cells, columns))
        else:
            continue
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
