"""Machine configs for controller tests: the smallest v1alpha1 document that says what a
test is about (controllers read only the paths they need)."""

from __future__ import annotations

from ruamel.yaml import YAML

from talos.machinery.resources.config import MachineConfigSpec


def machine_config(tree: dict[str, object]) -> MachineConfigSpec:
    """A MachineConfig spec holding `tree` as its v1alpha1 document."""
    import io

    out = io.StringIO()
    YAML(typ="safe", pure=True).dump({"version": "v1alpha1", **tree}, out)
    return MachineConfigSpec(out.getvalue())
