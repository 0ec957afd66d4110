"""Shared test configuration."""

# prerequisites (root, etcd, ...): the `requires` marker, skip locally, fail under CI=true
pytest_plugins = ["tests.prerequisites"]
