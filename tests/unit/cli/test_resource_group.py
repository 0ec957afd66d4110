"""`talosctl edit|patch <type> [<id>]`: Talos's spellings of the machine config type."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from talos.talosctl.main import cli

ENV = {"TALOSCONFIG": "/nonexistent/talosconfig"}


@pytest.mark.parametrize("spelling", ["machineconfig", "mc", "machineconfigs",
                                      "MachineConfigs.config.talos.dev", "MC"])
def test_machineconfig_aliases_reach_the_command(spelling: str) -> None:
    # -p is --patch (as Talos); a missing @file fails before anything connects
    r = CliRunner().invoke(cli, ["patch", spelling, "v1alpha1", "-p", "@/nonexistent.yaml"],
                           env=ENV)
    assert r.exit_code == 1, r.output
    assert "/nonexistent.yaml" in r.output
    r = CliRunner().invoke(cli, ["edit", spelling, "--help"], env=ENV)
    assert r.exit_code == 0 and "Usage: cli edit machineconfig [OPTIONS] [<id>]" in r.output


def test_other_types_and_ids_are_refused_with_one_clear_line() -> None:
    r = CliRunner().invoke(cli, ["edit", "hostnamestatus"], env=ENV)
    assert r.exit_code == 2
    assert ("'hostnamestatus': only the machine config can be changed with 'cli edit' "
            "(type machineconfig, alias mc)") in r.output
    r = CliRunner().invoke(cli, ["patch", "mc", "v2", "-p", "{}"], env=ENV)
    assert r.exit_code == 2
    assert "'v2': the machine config has one resource, 'v1alpha1'" in r.output


def test_namespace_is_the_machine_configs_own() -> None:
    r = CliRunner().invoke(cli, ["patch", "mc", "--namespace", "config", "-p",
                                 "@/nonexistent.yaml"], env=ENV)
    assert r.exit_code == 1 and "/nonexistent.yaml" in r.output  # accepted, went on
    r = CliRunner().invoke(cli, ["edit", "mc", "--namespace", "network"], env=ENV)
    assert r.exit_code == 2
    assert "'network': the machine config lives in namespace 'config'" in r.output


def test_apply_config_modes_and_file() -> None:
    r = CliRunner().invoke(cli, ["apply-config", "-m", "interactive"], env=ENV)
    assert r.exit_code == 2
    assert "--mode interactive (Talos's text-UI installer" in r.output
    r = CliRunner().invoke(cli, ["apply-config"], env=ENV)
    assert r.exit_code == 2 and "Missing option '-f' / '--file'" in r.output
    r = CliRunner().invoke(cli, ["apply-config", "-m", "bogus", "-f", "x"], env=ENV)
    assert r.exit_code == 2
    assert "'auto', 'no-reboot', 'reboot', 'staged', 'try', 'interactive'" in r.output
