from django import template
from django.urls import reverse
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timezone import localtime

from cases.choices import CaseStatus, Priority
from feedback.choices import Intent, SentimentLabel
from feedback.scores import BANDS, band_text

register = template.Library()

STATUS_LABELS, PRIORITY_LABELS = dict(CaseStatus.choices), dict(Priority.choices)
INTENT_LABELS, SENTIMENT_LABELS = dict(Intent.choices), dict(SentimentLabel.choices)
_SELECT = '<td><input type="checkbox" name="case" value="{}" aria-label="Select {}"></td>'
_ROW = (
    '<tr>{}<td><a href="{}">{}</a>{}</td>'
    '<td><span class="badge status-{}">{}</span> <span class="badge prio-{}">{}</span>{}</td>'
    '<td><time datetime="{}">{}</time></td>'
    '<td>{}<small class="muted"> · {}</small></td>'
    "<td>{}</td></tr>\n"
)
# Literal markup, no data in it.
_SLA = {
    "breached": SafeString(' <span class="badge sla-breached">SLA breached</span>'),
    "soon": SafeString(' <span class="badge sla-soon">Due soon</span>'),
    "": "",
}


@register.simple_tag
def queue_rows(cases, *, selectable: bool = False) -> SafeString:
    """The rows of a queue table (cases with owner, touchpoint and journey
    loaded), built with format_html as the admin builds its change list
    rows: in the template language, a dozen lookups, filters and escapes a
    row were a large share of the queue page's time (README, Benchmarks).
    The due time reads as the `date` filter would write it (that filter's
    format lookup, skipped here, returns a format string like this one
    unchanged)."""
    days = {}  # a page's cases fall on a few days: each day's name is formatted once
    return format_html_join("", "{}", ((_row(case, selectable, days),) for case in cases))


def due_text(due, days: dict) -> str:
    """`due` (local time) as date_format(due, "D j M, H:i") writes it, the
    day's part ("Mon 7 Dec", translated) formatted once per day in `days`."""
    day = due.date()
    if day not in days:
        days[day] = date_format(due, "D j M")
    return f"{days[day]}, {due.hour:02d}:{due.minute:02d}"


def _said(case) -> SafeString | str:
    """Who the customer is and what they said, when the page read it
    (cases.selectors.with_what_they_said)."""
    name, said = getattr(case, "customer_name", ""), getattr(case, "said", "")
    if not (name or said):
        return ""
    return format_html('<div class="said"><b>{}</b> {}</div>', name or "Customer", said)


def _row(case, selectable: bool, days: dict) -> SafeString:
    due = localtime(case.due_at)
    sla = "breached" if case.is_breached else "soon" if case.due_soon else ""
    owner = case.owner.get_username() if case.owner_id else ""
    return format_html(
        _ROW,
        format_html(_SELECT, case.pk, case.number) if selectable else "",
        reverse("cases:detail", args=[case.pk]),
        case.number,
        _said(case),
        case.status,
        STATUS_LABELS.get(case.status, case.status),
        case.priority,
        PRIORITY_LABELS.get(case.priority, case.priority),
        _SLA[sla],
        due.isoformat(),
        due_text(due, days),
        case.touchpoint.name,
        case.journey.name,
        owner or "— unassigned",
    )


@register.simple_tag
def feedback_explanation(response, *, compact: bool = False) -> SafeString:
    """Why the CX text layer read a comment as it did, for a frontline
    reader: its intents as badges, each titled with the phrases behind it,
    and the terms that drove its label ("Negative because: hung up, never
    called back"); `compact` gives the badges only. A response's
    explanation pairs each term with its effect, a label or an intent."""
    pairs = [(str(term), str(effect)) for term, effect in response.explanation or ()]
    badges = format_html_join(
        " ",
        '<span class="badge intent intent-{}" title="{}">{}</span>',
        (
            (intent, ", ".join(term for term, effect in pairs if effect == intent), INTENT_LABELS.get(intent, intent))
            for intent in response.intents or ()
        ),
    )
    drivers = [term for term, effect in pairs if effect == response.sentiment_label]
    if compact or not drivers:
        return format_html('<span class="intents">{}</span>', badges) if badges else ""
    label = SENTIMENT_LABELS.get(response.sentiment_label, response.sentiment_label)
    return format_html(
        '<p class="intents">{}</p><p class="why small">{} because: {}</p>', badges, label, ", ".join(drivers)
    )


@register.simple_tag
def score_band(name: str, end: str = "") -> str:
    """A band of `feedback.scores.BANDS` as text ("0–6"), or one `end` of it
    ("low" or "high"), so pages never write a threshold of their own."""
    if end:
        return str(BANDS[name][("low", "high").index(end)])
    return band_text(name)
