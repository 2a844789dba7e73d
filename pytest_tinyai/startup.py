"""The process's home folders as they were when the plugin loaded (pytest's start), before any test moved them.

onnxruntime writes a device id and a database under the home's cache; the sandbox process keeps writing them
where pytest's own process would, not under a home a test has set since (pytester does, for its inner runs).
"""

from __future__ import annotations

import os

HOME_VARIABLES = ("HOME", "XDG_CACHE_HOME")
STARTUP_HOME = {name: os.environ[name] for name in HOME_VARIABLES if name in os.environ}
