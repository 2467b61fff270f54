"""A whitelist renderer for reply templates: `{{ a.b }}` names looked up in a
dict of plain strings, nothing else. Admin text never reaches Django's
template engine, so it cannot call methods, read attributes or load tags."""

from __future__ import annotations

import re

from cvx_site.errors import InvalidInput

# Anything between double braces is a placeholder; only dotted names are valid.
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_NAME = re.compile(r"\s*([a-z_]+\.[a-z_]+)\s*")
# What a template may name. The values come from placeholder_values().
NAMES = (
    "customer.name",
    "customer.email",
    "case.number",
    "case.touchpoint",
    "agent.first_name",
    "agent.last_name",
    "agent.name",
)


def _problems(text: str) -> list[str]:
    found = []
    for match in _PLACEHOLDER.finditer(text):
        name = _NAME.fullmatch(match.group(1))
        if name is None or name.group(1) not in NAMES:
            found.append(match.group(0))
    # A lone "{{" or "}}" left over is a broken placeholder too.
    rest = _PLACEHOLDER.sub("", text)
    found += [token for token in ("{{", "}}", "{%", "%}") if token in rest]
    return found


def placeholder_errors(fields: dict[str, str]) -> dict[str, str]:
    """{field: message} for each field holding an unknown or broken placeholder."""
    errors = {}
    for field, text in fields.items():
        bad = _problems(text or "")
        if bad:
            errors[field] = (
                f"Unknown or broken placeholder {', '.join(dict.fromkeys(bad))}; "
                f"use one of: {', '.join('{{ ' + n + ' }}' for n in NAMES)}."
            )
    return errors


def render(text: str, values: dict[str, str], *, field: str) -> str:
    """`text` with each placeholder replaced by its value; InvalidInput
    naming `field` and the placeholder when one is unknown or broken."""
    errors = placeholder_errors({field: text})
    if errors:
        raise InvalidInput(errors[field], field=field)
    return _PLACEHOLDER.sub(lambda m: values.get(_NAME.fullmatch(m.group(1)).group(1), ""), text)


def placeholder_values(*, case, agent, email: str) -> dict[str, str]:
    return {
        "customer.name": case.customer.name or "",
        "customer.email": email,
        "case.number": case.number,
        "case.touchpoint": case.touchpoint.name,
        "agent.first_name": agent.first_name or agent.get_username(),
        "agent.last_name": agent.last_name or "",
        "agent.name": agent.get_full_name() or agent.get_username(),
    }
