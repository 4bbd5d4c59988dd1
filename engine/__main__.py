"""``python -m engine run MODEL.json …``: the headless CLI."""

import sys

from engine.cli import main

sys.exit(main())
