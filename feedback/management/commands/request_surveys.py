"""Ask CVX to survey customers, one CSV row per interaction."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError
from tqdm import tqdm

# The CSV reading of `import_feedback`: line by line, each line decoded on
# its own, so one bad line spoils only its own row.
from feedback.management.commands.import_feedback import (
    CUSTOMER_COLUMNS,
    LineSource,
    error_reasons,
    read_header,
    read_records,
)
from feedback.surveys.requests import survey_request_create

REQUIRED_COLUMNS = ("touchpoint", "interaction_id")
# The customer's columns are import_feedback's (CSV column -> key of the nested `customer`).
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS) | {"language"} | frozenset(CUSTOMER_COLUMNS)


class Command(BaseCommand):
    """`manage.py request_surveys PATH.csv` — what callers may rely on:

    - Each row is one survey request through `feedback.surveys.requests`
      (the API's validator and contact rules), in its own transaction.
    - A rejected row is one stderr line, `line N: field: message`; the run
      goes on. Re-running is safe: an interaction_id already requested
      counts as a duplicate and sends nothing.
    - The last stdout line is `queued Q, suppressed S, duplicate D, rejected R`;
      with `-v 2` each suppressed row is listed with its rule and reason.
    - Exit 0 once the file has been read; 1 when it cannot be opened or its
      header lacks a required column.
    """

    help = (
        "Request surveys from a UTF-8 CSV file with a header row. Required columns: touchpoint, "
        "interaction_id; optional: language (en, de, fr, es), customer_external_id, customer_email, "
        "customer_phone, customer_social, customer_name (at least one identity per row)."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The CSV file.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, path: Path, no_progress: bool, verbosity: int = 1, **options):
        try:
            file = path.open("rb")
        except OSError as exc:
            raise CommandError(f"cannot open {path}: {exc.strerror or exc}") from exc
        counts: Counter[str] = Counter()
        with file:
            size = path.stat().st_size
            lines = LineSource(file)
            records = read_records(lines)
            columns = read_header(path, records, REQUIRED_COLUMNS, KNOWN_COLUMNS, warn=self.stderr.write)
            bar = tqdm(
                total=size,
                unit="B",
                unit_scale=True,
                desc=path.name,
                file=getattr(self.stderr, "_out", sys.stderr),
                disable=no_progress,
            )
            with bar:
                for line, cells, reasons in records:
                    if cells is not None and not reasons and not any(c.strip() for c in cells):
                        continue
                    message = self._request(line, cells, reasons, columns, counts, verbosity)
                    if message:
                        bar.clear()
                        self.stderr.write(message)
                    bar.update(lines.bytes_read - bar.n)
        self.stdout.write(
            f"queued {counts['queued']}, suppressed {counts['suppressed']}, "
            f"duplicate {counts['duplicate']}, rejected {counts['rejected']}"
        )

    def _request(self, line, cells, reasons, columns, counts, verbosity) -> str | None:
        """Request one row; the rejection's report line, if any."""
        if cells is None or reasons:
            counts["rejected"] += 1
            return f"line {line}: {'; '.join(reasons) or 'cannot be read'}"
        data: dict = {"customer": {}}
        for name, cell in zip(columns, cells):
            if name in CUSTOMER_COLUMNS:
                if cell.strip():
                    data["customer"][CUSTOMER_COLUMNS[name]] = cell.strip()
            elif name is not None:
                data[name] = cell.strip()
        try:
            outcome = survey_request_create(data=data)
        except ValidationError as exc:
            counts["rejected"] += 1
            return f"line {line}: {'; '.join(error_reasons(exc.detail))}"
        request = outcome.request
        counts["duplicate" if outcome.replay else request.status] += 1
        if verbosity >= 2 and not outcome.replay and request.rule:
            self.stdout.write(f"line {line}: suppressed ({request.rule}): {request.reason}")
        return None
