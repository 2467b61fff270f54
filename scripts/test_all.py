"""Check the code with ruff, then run the whole suite twice: on SQLite, then
on a throwaway PostgreSQL server. A ruff finding fails the run (the tests
still run, so one report shows everything).

Extra arguments go to pytest on both runs. Under CI=true a PostgreSQL server
that cannot be started fails the run; elsewhere it is reported loudly and the
SQLite result stands.

The browser tests drive Debian's Chromium (/usr/bin/chromium). When it is
missing and we are root, it is installed with apt-get first; if that fails the
run goes on, and the browser tests fail (CI=true) or skip, saying why.
The translations (locale/) are compiled first with `manage.py compilemessages`,
which needs msgfmt: Debian's gettext is installed the same way when missing,
and without it the language tests fail (CI=true) or skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throwaway_pg import PostgresUnavailable, throwaway_postgres_roles  # noqa: E402 - after sys.path

ROOT = Path(__file__).resolve().parent.parent


def banner(text: str) -> None:
    line = "=" * 78
    print(f"\n{line}\n{text}\n{line}", flush=True)


class Tally:
    """Adds up the junit reports of both runs for one closing line."""

    def __init__(self) -> None:
        self.passed = self.failed = self.skipped = 0

    def add(self, report: Path) -> None:
        if not report.exists():
            self.failed += 1  # pytest died before writing its report
            return
        for suite in ElementTree.parse(report).getroot().iter("testsuite"):
            tests, skipped = int(suite.get("tests", 0)), int(suite.get("skipped", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            self.passed += tests - skipped - failed
            self.failed += failed
            self.skipped += skipped


def pytest(extra_env: dict[str, str], args: list[str], tally: Tally) -> int:
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "CVX_AUDIT_KEY": os.environ.get("CVX_AUDIT_KEY") or secrets.token_urlsafe(48),
        "DJANGO_DEBUG": "false",
        **extra_env,
    }
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", f"--junitxml={report}", *args]
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        tally.add(report)
    return rc


CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser tests when it is missing and
    we may (root, apt-get). Never fatal: the tests report a missing browser."""
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(
            f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get); "
            "the browser tests will say so.",
            flush=True,
        )
        return
    print(f"{CHROMIUM} is missing: installing Debian's chromium with apt-get for the browser tests.", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, env=env)
    if not CHROMIUM.exists():
        print("Installing chromium failed; the browser tests will fail (CI=true) or skip.", flush=True)


def ensure_gettext() -> None:
    """Install Debian's gettext (msgfmt) when it is missing and we may."""
    if shutil.which("msgfmt"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("msgfmt is missing and cannot be installed here (needs root and apt-get).", flush=True)
        return
    print("msgfmt is missing: installing Debian's gettext with apt-get for the translations.", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "gettext"], check=False, env=env)


def compile_messages() -> None:
    """locale/*.po -> .mo (build output, not in git). Never fatal: without
    msgfmt the language tests say so."""
    ensure_gettext()
    if not shutil.which("msgfmt"):
        print("No msgfmt: translations not compiled; the language tests will fail (CI=true) or skip.", flush=True)
        return
    env = {**os.environ, "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "compilemessages-only")}
    command = [sys.executable, "manage.py", "compilemessages", "--ignore", ".venv", "--ignore", "var"]
    subprocess.run(command, cwd=ROOT, check=False, env=env, stdout=subprocess.DEVNULL)


def lint() -> int:
    """ruff's lint and format check over the whole tree (config in pyproject.toml)."""
    banner("ruff check and ruff format --check")
    ruff = [sys.executable, "-m", "ruff"]
    checked = subprocess.run([*ruff, "check", "."], cwd=ROOT).returncode
    formatted = subprocess.run([*ruff, "format", "--check", "."], cwd=ROOT).returncode
    return checked or formatted


def main(args: list[str]) -> int:
    in_ci = os.environ.get("CI", "").lower() == "true"
    tally = Tally()
    lint_rc = lint()
    ensure_chromium()
    compile_messages()
    with tempfile.TemporaryDirectory(prefix="cvx-test-") as data_dir:
        banner("CVX test suite on SQLite")
        sqlite_rc = pytest(
            {"CVX_DATA_DIR": data_dir, "DATABASE_URL": "", "DATABASE_OWNER_URL": "", "CVX_EXPECT_DB": "sqlite"},
            ["-m", "not postgres", *args],
            tally,
        )

    banner("CVX test suite on PostgreSQL (throwaway server)")
    try:
        # As in production: the tests run as an app role that owns no table;
        # the test database is created and migrated by the owner role.
        with throwaway_postgres_roles() as (app_url, owner_url):
            with tempfile.TemporaryDirectory(prefix="cvx-test-") as data_dir:
                pg_rc = pytest(
                    {
                        "CVX_DATA_DIR": data_dir,
                        "DATABASE_URL": app_url,
                        "DATABASE_OWNER_URL": owner_url,
                        "CVX_EXPECT_DB": "postgresql",
                    },
                    ["-m", "not sqlite", *args],
                    tally,
                )
    except PostgresUnavailable as exc:
        print(f"PostgreSQL could not be started: {exc}", file=sys.stderr)
        if in_ci:
            print("FAILED: CI=true requires the PostgreSQL run.", file=sys.stderr)
            return 1
        print("WARNING: the PostgreSQL run did NOT happen (not in CI).", file=sys.stderr)
        pg_rc = 0

    banner(
        f"ruff: {'clean' if lint_rc == 0 else 'FAILED'}; "
        f"SQLite run: {'passed' if sqlite_rc == 0 else 'FAILED'}; "
        f"PostgreSQL run: {'passed' if pg_rc == 0 else 'FAILED'}"
    )
    print(f"total: {tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped")
    return 0 if lint_rc == 0 and sqlite_rc == 0 and pg_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
