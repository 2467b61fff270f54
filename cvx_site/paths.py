"""Where CVX finds its files: in a source checkout or in an installed wheel.

A checkout keeps templates/, static/ and locale/ at the repository root,
beside manage.py. The wheel carries the same three directories inside this
package, in `cvx_site/share/` (copied there by setup.py's build step), so
site-packages gets nothing outside the package. Settings read them from
SHARE_DIR, whichever it is.

Importing this module creates nothing.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent
# A checkout has manage.py beside the package. Told apart by that, not by
# whether share/ exists: a wheel built without its files then fails loudly
# (no templates) instead of reading, and writing var/, in site-packages.
IS_CHECKOUT = (CHECKOUT_DIR / "manage.py").is_file()
SHARE_DIR = CHECKOUT_DIR if IS_CHECKOUT else PACKAGE_DIR / "share"
