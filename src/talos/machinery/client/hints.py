"""Hints for errors a node reports about another node (shared by apid and talosctl)."""

from __future__ import annotations

_SELF_SIGNED = ("self signed certificate", "self-signed certificate")


def maintenance_node_error(node: str, error: str) -> str:
    """A node reached through an endpoint (apid's proxy) that presents a self-signed
    certificate is a node in maintenance mode (no config yet, so no certificate from the
    cluster's CA): the message that says so and how to reach it ("" for other errors)."""
    low = error.lower()
    if not any(h in low for h in _SELF_SIGNED):
        return ""
    return (f"node {node} is in maintenance mode (it has no config yet, and its self-signed "
            "certificate cannot be verified through an endpoint): talk to it directly with "
            f"--insecure -n {node}, e.g. talosctl apply-config --insecure -n {node} "
            "-f <config>")
