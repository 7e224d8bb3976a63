"""`python -m model_host` runs the host."""

import sys

from .cli import main

sys.exit(main())
