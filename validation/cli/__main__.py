"""``python -m validation.cli``: the ``theorykit`` console script."""

import sys

from validation.cli import main

sys.exit(main())
