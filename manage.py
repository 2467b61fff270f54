#!/usr/bin/env python
"""Django's command-line utility for CVX in a checkout; installed, the same is the `cvx` command."""

from cvx_site.cli import main

if __name__ == "__main__":
    main()
