"""``python -m cs_sdk.cli``: the same as the ``cs-sdk`` command."""

import sys

from . import main

sys.exit(main())
