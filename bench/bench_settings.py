"""Settings of bench/bench_post.py: the project's own, with one URLconf
that adds a bare JSON view, so both sides of that benchmark are served by
the same server process with the same middleware and settings."""

from cvx_site.settings import *  # noqa: F403 - the app's settings as they are, one URLconf changed

ROOT_URLCONF = "bench.bench_urls"
