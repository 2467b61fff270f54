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
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_URL"))}
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
    "CVX_AUDIT_KEY": secrets.token_urlsafe(48),
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


@pytest.mark.parametrize("debug", ["false", "true"])
def test_secret_key_is_required_even_with_debug(tmp_path, debug):
    """No constant stands in: anyone could read it here and forge survey links."""
    result = manage("check", env={"DJANGO_DEBUG": debug}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert (
        f"DJANGO_SECRET_KEY: is required (`make run` writes a random one to {tmp_path / 'local.env'})" in result.stderr
    )


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
    result = manage(
        "check", "--tag", "cvx", env={"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_DEBUG": "false"}, tmp_path=tmp_path
    )
    assert result.returncode == 1
    assert "(cvx.E001) DJANGO_DEBUG is off but emails are written to the console" in result.stderr
    assert "CVX_ALLOW_CONSOLE_EMAIL=true" in result.stderr


@pytest.mark.parametrize(
    "env", [{"DJANGO_EMAIL_HOST": "smtp.example.com"}, {"CVX_ALLOW_CONSOLE_EMAIL": "true"}, {"DJANGO_DEBUG": "true"}]
)
def test_console_email_check_passes_with_a_host_an_allowance_or_debug(tmp_path, env):
    result = manage(
        "check", "--tag", "cvx", env={"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_DEBUG": "false", **env}, tmp_path=tmp_path
    )
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


# --- make run's local settings ------------------------------------------------------

SHOW = (
    "from django.conf import settings; "
    "print(settings.DEBUG, settings.SECRET_KEY, settings.CVX_BASE_URL, settings.LOCAL_ENV_FILE)"
)


def write_local_env(tmp_path: Path, base_url: str = "http://127.0.0.1:8765") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CVX_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "cvx_site.local_env", "--base-url", base_url],
        cwd=ROOT,
        env={**env, "CVX_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def shown(result: subprocess.CompletedProcess) -> list[str]:
    return result.stdout.strip().splitlines()[-1].split()


def local_values(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if line and not line.startswith("#"))


def test_make_run_writes_its_local_settings_once_private_and_random(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert write_local_env(first).returncode == 0
    assert write_local_env(second).returncode == 0
    path = first / "local.env"
    assert path.stat().st_mode & 0o777 == 0o600
    values = local_values(path)
    assert values["DJANGO_DEBUG"] == "true" and values["CVX_BASE_URL"] == "http://127.0.0.1:8765"
    assert len(values["DJANGO_SECRET_KEY"]) >= 50 and len(values["CVX_AUDIT_KEY"]) >= 32
    other = local_values(second / "local.env")
    assert (other["DJANGO_SECRET_KEY"], other["CVX_AUDIT_KEY"]) != (
        values["DJANGO_SECRET_KEY"],
        values["CVX_AUDIT_KEY"],
    )
    # Run again on another port: the keys stay (links and audit hashes depend on them), the address follows.
    assert write_local_env(first, "http://0.0.0.0:8080").returncode == 0
    again = local_values(path)
    assert again == {**values, "CVX_BASE_URL": "http://0.0.0.0:8080"}


def test_commands_run_by_hand_use_make_runs_local_settings(tmp_path):
    """With no DJANGO_* variable at all, as the README's commands are typed."""
    write_local_env(tmp_path)
    values = local_values(tmp_path / "local.env")
    result = manage("shell", "-c", SHOW, env={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert shown(result) == ["True", values["DJANGO_SECRET_KEY"], "http://127.0.0.1:8765", str(tmp_path / "local.env")]
    assert manage("check", env={}, tmp_path=tmp_path).returncode == 0


def test_the_environment_wins_over_the_local_settings(tmp_path):
    write_local_env(tmp_path)
    result = manage(
        "shell",
        "-c",
        SHOW,
        env={"DJANGO_SECRET_KEY": "k" * 60, "DJANGO_DEBUG": "false", "CVX_BASE_URL": "https://cvx.example.com"},
        tmp_path=tmp_path,
    )
    assert shown(result)[:3] == ["False", "k" * 60, "https://cvx.example.com"]


def test_the_local_settings_file_is_looked_for_in_the_data_directory_only(monkeypatch, tmp_path):
    """The test runner and CI run with their own CVX_DATA_DIR, so a
    developer's var/local.env is never read by them."""
    from cvx_site.local_env import data_dir

    monkeypatch.setenv("CVX_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.delenv("CVX_DATA_DIR")
    assert data_dir() == ROOT / "var"


@pytest.mark.parametrize(
    ("content", "mode", "expected"),
    [
        ("DJANGO_DEBUG=true\n", 0o620, "other accounts can write to it"),
        ("# make run\nDJANGO_DEBUG true\n", 0o600, "line 2: expected NAME=value"),
        ("CVX_DATA_DIR=/elsewhere\n", 0o600, "line 1: CVX_DATA_DIR cannot be set here"),
    ],
)
def test_a_local_settings_file_that_cannot_be_trusted_stops_startup(tmp_path, content, mode, expected):
    path = tmp_path / "local.env"
    path.write_text(content)
    path.chmod(mode)
    result = manage("check", env={"DJANGO_SECRET_KEY": "x" * 60}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert f"CVX configuration error: {path}: {expected}" in result.stderr
