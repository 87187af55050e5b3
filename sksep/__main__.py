"""``python -m sksep``: the same as the ``sksep`` command."""

import sys

from .cli import main

sys.exit(main())
