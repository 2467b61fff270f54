"""The weekly digest for team leads and CX admins: their teams' pillars for
the week, SLA breaches, cases not recovered and the top negative topics,
with the insight pages' charts and a link to each page. `content` reads it
with the person's access rules, `delivery` sends it once per person and
week. Scheduled by cases 0017 ("cvx: weekly digest"); `manage.py
send_digest` sends or previews one."""

from cases.digest.content import digest_for, digest_week
from cases.digest.delivery import digest_email, digest_recipients, digest_send, digest_send_all

__all__ = ["digest_email", "digest_for", "digest_recipients", "digest_send", "digest_send_all", "digest_week"]
