"""Root conftest: the pytester fixture for the plugin's own tests (it runs pytest inside pytest)."""

pytest_plugins = ["pytester"]
