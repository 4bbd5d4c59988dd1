"""Test configuration shared by the engine and desktop suites."""

import os

# GUI tests run without a display: the offscreen platform is chosen here, by the test
# configuration, before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
