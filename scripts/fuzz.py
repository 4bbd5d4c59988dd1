#!/usr/bin/env python3
"""Run the hardening fuzzer (tests/engine/test_hardening_fuzz.py) as a long campaign.

    python scripts/fuzz.py --cases 5000 --jobs 2 --out /tmp/fuzz-failures   # cases 0..4999
    python scripts/fuzz.py --cases 100-199 --timeout 10   # a range; or a list: --cases 3,17,4086
    python scripts/fuzz.py --show 4086                    # the document and options of one case
    python scripts/fuzz.py --replay /tmp/fuzz-failures/failure-01.json --encoding cp1252

Prints the count of each outcome (refused, good, stalled, FAILURE) and the distinct
failures (exception type and where in the code), and with ``--out`` writes a minimised
reproducing document for each failure, ``summary.json`` and ``tracebacks.txt``.
See the test module's docstring for what a case does.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

FUZZER = Path(__file__).resolve().parents[1] / "tests" / "engine" / "test_hardening_fuzz.py"


def main() -> int:
    spec = importlib.util.spec_from_file_location("queuestudio_hardening_fuzz", FUZZER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.main(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
