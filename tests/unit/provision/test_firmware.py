"""The sandbox firmware's decisions, without processes: what the end of a boot means, the
crash back-off, the watchdog's bound, the console line of a selection, the boot command."""

from __future__ import annotations

import itertools
import signal

from talos.machinery import bootslots, constants
from talos.provision import firmware
from talos.provision.firmware import Outcome

A = bootslots.SlotImage("v1.0.0", "sha256:" + "a" * 64)
B = bootslots.SlotImage("v1.1.0", "sha256:" + "b" * 64)


def test_reboot_code_boots_again_zero_powers_off_anything_else_is_a_crash():
    assert firmware.outcome(constants.REBOOT_EXIT_CODE) is Outcome.REBOOT
    assert firmware.outcome(0) is Outcome.POWER_OFF
    for code in (1, 2, 137, -signal.SIGKILL, -signal.SIGSEGV):
        assert firmware.outcome(code) is Outcome.CRASH


def test_exit_described_by_code_or_signal_name():
    assert firmware.describe_exit(3) == "exited with 3"
    assert firmware.describe_exit(-signal.SIGKILL) == "killed by SIGKILL"


def test_crash_backoff_doubles_and_is_bounded():
    delays = [firmware.crash_delay(n) for n in range(0, 20)]
    assert delays[0] == 0.0
    assert delays[1] == firmware.CRASH_BACKOFF_BASE
    assert delays[2] == 2 * firmware.CRASH_BACKOFF_BASE
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert max(delays) == firmware.CRASH_BACKOFF_MAX


def test_watchdog_only_for_a_slot_on_trial_with_the_env_override():
    good = bootslots.initial(A)
    assert firmware.trial_bound(good, {}) is None
    upgraded = bootslots.installed(good, "B", B)
    _slot, trial = bootslots.select(upgraded)
    assert firmware.trial_bound(trial, {}) == firmware.DEFAULT_TRIAL_SECONDS
    assert firmware.trial_bound(trial, {firmware.ENV_TRIAL_SECONDS: "7.5"}) == 7.5
    # nonsense falls back to the default rather than disabling the watchdog
    assert firmware.trial_bound(trial, {firmware.ENV_TRIAL_SECONDS: "soon"}) == \
        firmware.DEFAULT_TRIAL_SECONDS
    assert firmware.trial_bound(trial, {firmware.ENV_TRIAL_SECONDS: "0"}) == \
        firmware.DEFAULT_TRIAL_SECONDS


def test_selection_line_names_slot_tag_trial_and_the_fallback_note():
    slot, record = bootslots.select(bootslots.initial(A))
    line = firmware.selection_line(slot, record)
    assert line.startswith("booting slot A: v1.0.0 (sha256:")
    assert "trial" not in line
    upgraded = bootslots.installed(record, "B", B)
    slot, record = bootslots.select(upgraded)
    assert "on trial" in firmware.selection_line(slot, record)
    # the trial boot never got marked good: the next selection falls back and says so
    slot, record = bootslots.select(record)
    line = firmware.selection_line(slot, record)
    assert slot == "A"
    assert "falling back to slot A" in line


def test_boot_runs_stage0_in_new_namespaces_but_the_network_one():
    argv = firmware.node_argv("/usr/bin/python3")
    unshare = argv[argv.index(firmware.UNSHARE):]
    assert "--net" not in unshare
    for flag in ("--pid", "--fork", "--mount", "--uts"):
        assert flag in unshare
    assert argv[:3] == [firmware.SETPRIV, "--pdeathsig", "KILL"]
    assert argv[-5:] == ["/usr/bin/python3", "-m", "talos", "machined", "--sandbox"]


def test_boot_env_names_the_slot_and_nothing_of_the_starter(tmp_path):
    node = firmware.NodeDir(tmp_path)
    env = firmware.node_env(node, "B", {"PATH": "/usr/bin", "TALOSCONFIG": "/secret"})
    assert env[constants.SANDBOX_ENV_IMAGE] == str(tmp_path / "boot" / "B" / "rootfs.sqsh")
    assert env[constants.SANDBOX_ENV_BOOT] == str(tmp_path / "boot")
    assert env[constants.SANDBOX_ENV_STATE] == str(tmp_path / "state")
    assert "TALOSCONFIG" not in env
