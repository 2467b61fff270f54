"""The one build step pyproject.toml cannot say: templates/, static/ and
locale/ stay at the repository root (where a checkout's settings read them)
and are copied into the wheel's `cvx_site/share/`, where an installed
package's settings read them (cvx_site.paths). setuptools' package data
only takes files from inside a package's directory, and data files land
outside the package, where nothing could find them reliably.

Everything else about the build is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# Whatever these directories hold ships (compiled .mo files included when present).
SHARED_DIRECTORIES = ("templates", "static", "locale")


class BuildPyWithSharedFiles(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            # An editable install runs from the checkout, which reads them in place.
            return
        share = Path(self.build_lib) / "cvx_site" / "share"
        # A reused build directory must not ship files deleted since.
        shutil.rmtree(share, ignore_errors=True)
        for name in SHARED_DIRECTORIES:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, share / name, ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))


setup(cmdclass={"build_py": BuildPyWithSharedFiles})
