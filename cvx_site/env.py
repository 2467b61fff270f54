"""Typed readers for settings that come from the environment.

Each reader names the variable in its error, so a bad value stops start-up
with a message an operator can act on instead of a traceback deep in Django.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ImproperlyConfigured):
    """A setting read from the environment is missing or malformed."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(name, f"expected a boolean (true/false, 1/0, yes/no, on/off), got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(name, f"expected a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, allowed: set[str]) -> str:
    value = env_str(name) or default
    if value not in allowed:
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 10 else "see the README"
        raise ConfigError(name, f"{value!r} is not one of the accepted values ({shown})")
    return value


def env_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as `600/min`."""
    import re

    value = env_str(name) or default
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ConfigError(name, f"expected a rate like 600/min (per s, min, hour or day), got {value!r}")
    return value


def database_from_url(name: str, url: str, *, conn_max_age: int) -> dict:
    """Turn a SQLite or PostgreSQL URL into a Django DATABASES entry."""
    import dj_database_url

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            name,
            f"expected a sqlite:/// or postgres:// URL, got {url!r}",
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except ValueError as exc:
        raise ConfigError(name, f"could not parse {url!r}: {exc}") from None
    if not config.get("NAME"):
        raise ConfigError(name, f"names no database in {url!r}")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers work beside a writer; IMMEDIATE takes the write lock
        # when a transaction starts, so concurrent writers queue on the busy
        # timeout instead of failing with "database is locked" on upgrade.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL",
        }
    return config


def database_owner_from_url(name: str, url: str, *, app: dict) -> dict | None:
    """The credentials of the role that owns the schema, for `migrate` (see
    cvx_site.db_roles), from a postgres:// URL; None when `url` is empty.

    Only the user, password, host and port are taken: the database is the one
    DATABASE_URL names (the tests rename it). The owner must be another role
    than the app's, or the app could disable the audit trail's triggers."""
    if not url:
        return None
    owner = database_from_url(name, url, conn_max_age=0)
    if owner["ENGINE"] != "django.db.backends.postgresql" or app["ENGINE"] != owner["ENGINE"]:
        raise ConfigError(name, "is for PostgreSQL only, with DATABASE_URL on PostgreSQL too")
    if not owner.get("USER") or owner["USER"] == app.get("USER"):
        raise ConfigError(name, "must name another role than DATABASE_URL (the role that owns the tables)")
    return {key: owner.get(key, "") for key in ("USER", "PASSWORD", "HOST", "PORT")}


def env_audit_key(name: str, *, fallback_from: str) -> tuple[str, bool]:
    """The audit trail's HMAC key from `name` and whether it was set. Unset,
    a key derived from `fallback_from` (the secret key) stands in, which the
    system check cases.E001 refuses when DEBUG is off."""
    import hashlib
    import hmac

    value = env_str(name)
    if value:
        if len(value) < 32:
            raise ConfigError(name, f"must be at least 32 characters (a random secret), got {len(value)}")
        return value, True
    derived = hmac.new(fallback_from.encode(), b"cvx audit key (development fallback)", hashlib.sha256)
    return derived.hexdigest(), False
