"""The reply address of a case: plus-addressing on CVX_REPLY_MAILBOX with a
signed, expiring case token (django.core.signing), e.g.
replies+42.1vX3aB.Sig-nature_@example.com. The separator is "." because ":"
may not appear unquoted in an address's local part."""

from __future__ import annotations

from datetime import timedelta
from email.utils import getaddresses

from django.conf import settings
from django.core import signing

_SALT = "cvx.cases.reply-token"


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT, sep=".")


def reply_address(case_id: int) -> str | None:
    """The Reply-To address for the case's messages; None when no mailbox is configured."""
    mailbox = settings.CVX_REPLY_MAILBOX
    if not mailbox:
        return None
    local, _, domain = mailbox.rpartition("@")
    return f"{local}+{_signer().sign(str(case_id))}@{domain}"


def case_id_from_addresses(headers: list[str]) -> tuple[int | None, str]:
    """(case id, "") for the first address in `headers` carrying a valid token
    on our mailbox; (None, why) otherwise."""
    mailbox = settings.CVX_REPLY_MAILBOX
    if not mailbox:
        return None, "no reply mailbox is configured (CVX_REPLY_MAILBOX)"
    local, _, domain = mailbox.lower().rpartition("@")
    reason = "no reply token in To, Delivered-To or X-Original-To"
    for _, address in getaddresses(headers):
        addr_local, _, addr_domain = address.rpartition("@")
        base, plus, token = addr_local.partition("+")
        if not plus or base.lower() != local or addr_domain.lower() != domain:
            continue
        try:
            value = _signer().unsign(token, max_age=timedelta(days=settings.CVX_REPLY_TOKEN_MAX_AGE_DAYS))
        except signing.SignatureExpired:
            reason = "the reply token has expired"
            continue
        except signing.BadSignature:
            reason = "the reply token is forged or damaged"
            continue
        if value.isdigit():
            return int(value), ""
    return None, reason
