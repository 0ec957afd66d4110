"""apid starts with what it uses: the resource catalog, YAML, pydantic models and the State
API messages are imported only when a caller without os:admin reads COSI resources."""

from __future__ import annotations

import subprocess
import sys

from talos.apid import cosi_filter
from talos.machinery.resources import config as config_resources


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint(*sys.modules)"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_apid_entry_point_imports_no_resource_catalog_yaml_or_models() -> None:
    mods = _modules_after("import talos.apid.__main__")
    heavy = {m for m in mods if m.startswith(("talos.machinery.resources", "talos.machinery"
                                              ".config", "ruamel", "pydantic"))}
    heavy |= {m for m in mods if m.endswith("_pb2") and "state_pb2" in m}
    assert heavy == set()


def test_machine_config_type_is_the_catalogs() -> None:
    assert cosi_filter.MACHINE_CONFIG_TYPE == config_resources.MACHINE_CONFIG.type


def test_sensitive_types_are_the_catalogs() -> None:
    assert cosi_filter.is_sensitive(config_resources.MACHINE_CONFIG.type)
    assert cosi_filter.is_sensitive("DiscoveryConfigs.cluster.talos.dev")
    assert not cosi_filter.is_sensitive("Hostnames.net.talos.dev")
