"""Settings come from the environment and bad values stop start-up clearly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from cvx_site.env import ConfigError, database_from_url, env_bool, env_int

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    base["CVX_DATA_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "cvx.example.com",
    "DJANGO_HTTPS": "true",
    "DATABASE_URL": "postgres://cvx:secret@db.example.com:5432/cvx",
    "REDIS_URL": "redis://redis.example.com:6379/0",
    "DJANGO_EMAIL_HOST": "smtp.example.com",
}


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "mysql://localhost/cvx", "expected a sqlite:/// or postgres:// URL"),
        ("DATABASE_URL", "not a url", "expected a sqlite:/// or postgres:// URL"),
        ("DJANGO_DEBUG", "maybe", "expected a boolean"),
        ("DJANGO_DB_CONN_MAX_AGE", "ten", "expected a whole number"),
        ("REDIS_URL", "localhost:6379", "expected a redis://"),
        ("DJANGO_LOG_LEVEL", "LOUD", "is not one of the accepted values"),
    ],
)
def test_malformed_environment_stops_startup_naming_the_variable(tmp_path, variable, value, expected):
    env = {"DJANGO_SECRET_KEY": "x" * 60, variable: value}
    result = manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode == 2
    assert f"CVX configuration error: {variable}: " in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = manage("check", env={"DJANGO_DEBUG": "false"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY: is required when DJANGO_DEBUG is off" in result.stderr


def test_debug_runs_without_a_secret_key(tmp_path):
    result = manage("check", env={"DJANGO_DEBUG": "true"}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_warns_when_https_is_not_declared(tmp_path):
    env = {**PRODUCTION_ENV, "DJANGO_HTTPS": "false"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout


@pytest.mark.parametrize("raw", ["1", "true", "Yes", " on "])
def test_env_bool_accepts_true_spellings(monkeypatch, raw):
    monkeypatch.setenv("CVX_FLAG", raw)
    assert env_bool("CVX_FLAG", False) is True


def test_env_bool_uses_default_when_unset(monkeypatch):
    monkeypatch.delenv("CVX_FLAG", raising=False)
    assert env_bool("CVX_FLAG", True) is True


def test_env_int_refuses_values_below_minimum(monkeypatch):
    monkeypatch.setenv("CVX_N", "-1")
    with pytest.raises(ConfigError, match="CVX_N: must be at least 0"):
        env_int("CVX_N", 5, minimum=0)


def test_sqlite_url_gets_wal_and_immediate_transactions():
    config = database_from_url("DATABASE_URL", "sqlite:////tmp/x.sqlite3", conn_max_age=0)
    assert config["NAME"] == "/tmp/x.sqlite3"
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]


def test_postgres_url_uses_the_postgresql_backend():
    config = database_from_url("DATABASE_URL", "postgres://u:p@db:5433/cvx", conn_max_age=60)
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db", 5433, "cvx")


def test_database_url_without_a_database_name_is_refused():
    with pytest.raises(ConfigError, match="names no database"):
        database_from_url("DATABASE_URL", "postgres://u:p@db:5432", conn_max_age=0)


# --- email to the console ---------------------------------------------------------

def test_console_email_with_debug_off_is_a_check_error(tmp_path):
    result = manage("check", "--tag", "cvx", env={"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_DEBUG": "false"},
                    tmp_path=tmp_path)
    assert result.returncode == 1
    assert "(cvx.E001) DJANGO_DEBUG is off but emails are written to the console" in result.stderr
    assert "CVX_ALLOW_CONSOLE_EMAIL=true" in result.stderr


@pytest.mark.parametrize("env", [{"DJANGO_EMAIL_HOST": "smtp.example.com"}, {"CVX_ALLOW_CONSOLE_EMAIL": "true"},
                                 {"DJANGO_DEBUG": "true"}])
def test_console_email_check_passes_with_a_host_an_allowance_or_debug(tmp_path, env):
    result = manage("check", "--tag", "cvx", env={"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_DEBUG": "false", **env},
                    tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_file_email_backend_counts_as_console(settings):
    """It subclasses the console backend and writes the same content to disk."""
    from cvx_site.checks import check_console_email

    settings.DEBUG, settings.CVX_ALLOW_CONSOLE_EMAIL = False, False
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    assert [e.id for e in check_console_email()] == ["cvx.E001"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert check_console_email() == []


def test_without_an_email_host_the_masking_console_backend_is_used(tmp_path):
    script = "from django.conf import settings; print(settings.EMAIL_BACKEND)"
    result = manage("shell", "-c", script, env={"DJANGO_SECRET_KEY": "x" * 60}, tmp_path=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "cvx_site.mail.ConsoleEmailBackend"
