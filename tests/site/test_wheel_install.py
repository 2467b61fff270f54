"""The production install works as the README's Production section says
(issue 20): the wheel built from this checkout, installed into a fresh
virtual environment outside it, carries its templates, static files and
translations, gives the `cvx` command, keeps its data in CVX_DATA_DIR
(never in site-packages), and serves the login page and a static file
through gunicorn.

It runs once, in the SQLite run: the install is its own, with the embedded
SQLite database in its data directory (PostgreSQL changes nothing here).
Dependencies come from the package index (pip's configuration and cache);
where they cannot be had the test fails under CI=true and skips otherwise.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import IN_CI

pytestmark = pytest.mark.sqlite

ROOT = Path(__file__).resolve().parents[2]
# What a build copies no more than a fresh clone would have (plus untracked
# work in progress, and compiled .mo files, which ship when present).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", "var", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis", "artifacts"
)
# Whatever these hold in the checkout ships (setup.py); locale/ may hold compiled .mo files too.
SHARED_DIRECTORIES = ("templates", "static", "locale")
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
STYLESHEET = re.compile(r'href="(/static/cvx/cvx\.[0-9a-f]{12}\.css)"')


class Timings:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float]] = []

    def run(self, name: str, command: list[str], *, timeout: int, **kwargs) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
        self.steps.append((name, time.monotonic() - started))
        print(f"{name}: {self.steps[-1][1]:.1f} s", flush=True)
        return result


def output(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def copy_source(destination: Path) -> Path:
    def ignore(directory: str, names: list[str]) -> set[str]:
        # Any virtual environment, whatever it is called (.venv, .venv-py311, ...).
        venvs = {name for name in names if (Path(directory) / name / "pyvenv.cfg").is_file()}
        return set(NOT_SOURCE(directory, names)) | venvs

    shutil.copytree(ROOT, destination, ignore=ignore)
    return destination


def files_under(directory: Path) -> set[str]:
    if not directory.is_dir():
        return set()
    return {
        path.relative_to(directory).as_posix()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def outside_environment(**variables: str) -> dict[str, str]:
    """This process's environment without anything that would point the
    install back at the checkout or at the test run's own settings."""
    dropped = ("DJANGO_", "DATABASE_", "CVX_", "REDIS_URL", "PYTHONPATH", "VIRTUAL_ENV", "PYTEST_")
    return {**{k: v for k, v in os.environ.items() if not k.startswith(dropped)}, **variables}


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        # As the README's proxy in front of gunicorn says: the request came over HTTPS.
        connection.request("GET", path, headers={"X-Forwarded-Proto": "https"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_for_port(log: Path, server: subprocess.Popen, *, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = LISTENING.search(log.read_text(errors="replace"))
        if match:
            return int(match[1])
        if server.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not start listening:\n{log.read_text(errors='replace')[-3000:]}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_the_wheel_installs_and_serves_outside_the_checkout(tmp_path):
    timings = Timings()
    started = time.monotonic()

    source = copy_source(tmp_path / "source")
    built = timings.run(
        "build the wheel",
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-input", "-w", str(tmp_path / "dist"), str(source)],
        timeout=300,
    )
    assert built.returncode == 0, output(built)
    (wheel,) = (tmp_path / "dist").glob("cvx-*.whl")

    venv = tmp_path / "venv"
    made = timings.run("create the virtualenv", [sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=120)
    assert made.returncode == 0, output(made)
    python = venv / "bin" / "python"
    installed = timings.run(
        "install the wheel and its dependencies",
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-input", str(wheel)],
        timeout=600,
    )
    if installed.returncode != 0:
        reason = f"installing the wheel's dependencies failed:\n{output(installed)}"
        if IN_CI:
            pytest.fail(f"{reason}\nCI=true forbids skipping this test", pytrace=False)
        pytest.skip(reason)

    site = tmp_path / "site"
    data = site / "data"
    site.mkdir()
    env = outside_environment(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        CVX_AUDIT_KEY=secrets.token_urlsafe(48),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_HTTPS="true",
        DJANGO_BEHIND_PROXY="true",
        DJANGO_EMAIL_HOST="smtp.example.com",
    )
    cvx = str(venv / "bin" / "cvx")

    where = timings.run(
        "where the package reads its files",
        [str(python), "-c", "from cvx_site import paths; print(paths.IS_CHECKOUT, paths.SHARE_DIR)"],
        timeout=60,
        cwd=site,
        env=env,
    )
    assert where.returncode == 0, output(where)
    is_checkout, share = where.stdout.split()
    assert is_checkout == "False"
    assert Path(share).resolve().is_relative_to(venv.resolve()), share
    # Against the copy the wheel was built from: others may be editing the checkout meanwhile.
    assert "registration/login.html" in files_under(source / "templates")
    for name in SHARED_DIRECTORIES:
        assert files_under(Path(share) / name) == files_under(source / name), (
            f"the wheel's {name}/ is not the checkout's"
        )

    unset = timings.run("cvx without CVX_DATA_DIR", [cvx, "check"], timeout=120, cwd=site, env=env)
    assert unset.returncode == 2, output(unset)
    assert "CVX configuration error: CVX_DATA_DIR: is required when CVX runs from an installed package" in unset.stderr
    assert "Traceback" not in unset.stderr

    env["CVX_DATA_DIR"] = str(data)
    for name, command in [
        ("cvx migrate", [cvx, "migrate", "--noinput", "-v", "0"]),
        ("cvx collectstatic", [cvx, "collectstatic", "--noinput", "-v", "0"]),
        ("cvx check --deploy", [cvx, "check", "--deploy", "--fail-level", "WARNING"]),
    ]:
        result = timings.run(name, command, timeout=300, cwd=site, env=env)
        assert result.returncode == 0, f"{name}: {output(result)}"
    assert (data / "cvx.sqlite3").is_file()
    assert (data / "static" / "staticfiles.json").is_file()
    assert not list(venv.rglob("cvx.sqlite3")), "the install wrote its database into the virtualenv"

    log = tmp_path / "gunicorn.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(
            [str(venv / "bin" / "gunicorn"), "cvx_site.wsgi", "--bind", "127.0.0.1:0", "--workers", "1"],
            cwd=site,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        served = time.monotonic()
        port = wait_for_port(log, server, timeout=60)
        status, _, body = get(port, "/accounts/login/")
        page = body.decode()
        assert status == 200, page[:2000]
        assert re.search(r'<form method="post" action="/accounts/login/">', page)
        assert 'name="username"' in page and 'name="password"' in page
        stylesheet = STYLESHEET.search(page)
        assert stylesheet, "the login page links no collected (hashed) stylesheet"
        status, headers, body = get(port, stylesheet[1])
        assert status == 200
        assert headers["content-type"].startswith("text/css")
        assert b"{" in body
        timings.steps.append(("gunicorn: start and two requests", time.monotonic() - served))
    finally:
        stop(server)

    total = time.monotonic() - started
    print("; ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.steps) + f"; total {total:.1f} s")
