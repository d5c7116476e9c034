"""``python -m workq_entrypoints``: the ``workq`` command without its console script."""

import sys

from workq_entrypoints.cli import main

sys.exit(main())
