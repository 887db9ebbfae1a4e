"""``python -m propscope``: the same as the ``propscope`` command."""

import sys

from .cli.main import main

sys.exit(main())
