"""The cluster secrets bundle (`talosctl gen secrets`)."""

from talos.machinery.secrets.bundle import SecretsBundle

__all__ = ["SecretsBundle"]
