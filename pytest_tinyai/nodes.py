"""What every pytest node of the plugin shares: which hooks it answers to."""

from __future__ import annotations

import pytest
from pluggy import HookRelay


class ConfiguredHooks:
    """A registry's nodes answer to the hooks of the run's configuration: every plugin and every conftest that
    was loaded (the rootdir's, the invocation's, the test folders'), never one in a registry's folder, which is
    never loaded. pytest would otherwise pick conftests by the node's path, and a registry's path has none."""

    config: pytest.Config

    @property
    def ihook(self) -> HookRelay:
        return self.config.hook
