"""``python -m bench``: see :mod:`bench.run` and bench/README.md."""

import sys

from .run import main

sys.exit(main())
