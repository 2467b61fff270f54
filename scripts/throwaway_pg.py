"""Start a private, disposable PostgreSQL server for tests and benchmarks.

    python scripts/throwaway_pg.py -- COMMAND ...   # runs COMMAND with DATABASE_URL and DATABASE_OWNER_URL set

The server lives in a temporary directory, listens on 127.0.0.1 at a free
port, trusts local connections and is stopped and deleted afterwards. As root
it runs as the `postgres` user (initdb refuses root); when Debian's server
binaries are missing and we are root, it installs them with apt-get.

The command runs with the two roles of a production setup (README,
Production): DATABASE_OWNER_URL's `cvx_owner` owns the database (and may
create the test database), DATABASE_URL's `cvx_app` is neither owner nor
superuser; `migrate` grants it what the app needs (cvx_site.db_roles).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started on this machine."""


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _ensure_binaries() -> Path:
    bindir = _bindir()
    if bindir is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=False, env=env)
        bindir = _bindir()
    if bindir is None:
        raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    return bindir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


OWNER_ROLE, APP_ROLE = "cvx_owner", "cvx_app"


@contextlib.contextmanager
def throwaway_postgres_roles(dbname: str = "cvx", *, tuned_for_tests: bool = True) -> Iterator[tuple[str, str]]:
    """Yield (app URL, owner URL) of a fresh database on a private server,
    owned by the owner role; the app role may only connect until `migrate`
    (as the owner) grants it more."""
    with throwaway_postgres(dbname, tuned_for_tests=tuned_for_tests) as url:
        server, _, _ = url.rpartition("/")
        bindir = _ensure_binaries()
        host, port = server.rsplit("@", 1)[1].split(":")
        sql = (
            f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB; CREATE ROLE {APP_ROLE} LOGIN; "
            f"ALTER DATABASE {dbname} OWNER TO {OWNER_ROLE};"
        )
        try:
            subprocess.run(
                _as_server_user(
                    [
                        str(bindir / "psql"),
                        "-h",
                        host,
                        "-p",
                        port,
                        "-U",
                        "postgres",
                        "-d",
                        dbname,
                        "-v",
                        "ON_ERROR_STOP=1",
                        "-q",
                        "-c",
                        sql,
                    ]
                ),
                check=True,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as exc:
            raise PostgresUnavailable(f"creating the roles failed: {exc.stderr}") from None
        yield (f"postgres://{APP_ROLE}@{host}:{port}/{dbname}", f"postgres://{OWNER_ROLE}@{host}:{port}/{dbname}")


@contextlib.contextmanager
def throwaway_postgres(dbname: str = "cvx", *, tuned_for_tests: bool = True) -> Iterator[str]:
    """Yield a postgres:// URL (as the superuser) of a fresh database on a private server."""
    bindir = _ensure_binaries()
    root = Path(tempfile.mkdtemp(prefix="cvx-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    options = [f"-p {port}", f"-k {root}", "-c listen_addresses=127.0.0.1"]
    if tuned_for_tests:
        # Durability is worthless for a server deleted after the run.
        options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    started = False
    try:

        def run(cmd):
            return subprocess.run(_as_server_user(cmd), check=True, capture_output=True, text=True)

        run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ]
        )
        run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-o",
                " ".join(options),
                "start",
            ]
        )
        started = True
        run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", dbname])
        yield f"postgres://postgres@127.0.0.1:{port}/{dbname}"
    except subprocess.CalledProcessError as exc:
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise PostgresUnavailable(f"{' '.join(exc.cmd[-3:])} failed: {exc.stderr}{tail}") from None
    finally:
        if started:
            subprocess.run(
                _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    with throwaway_postgres_roles() as (app_url, owner_url):
        env = {**os.environ, "DATABASE_URL": app_url, "DATABASE_OWNER_URL": owner_url}
        return subprocess.run(argv, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
