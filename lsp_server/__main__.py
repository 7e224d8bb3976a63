"""`python -m lsp_server` runs the language server."""

import sys

from .cli import main

sys.exit(main())
