"""`python -m api.cli`: the same as the `prospect-graph` command."""

import sys

from api.cli import main

sys.exit(main())
