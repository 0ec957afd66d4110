"""PID 1's exit on a machine (platform metal), as upstream v1.13.9's machined `handle`:
a shutdown powers off; a failure reboots after a 10 s countdown (so a failed trial boot
falls back to the previous UKI), or, with `panic=0` on the kernel command line, stays."""

from __future__ import annotations

import pytest

from talos.machined.platform import metal


class Stop(Exception):
    """Ends the test's 'forever' (a real PID 1 sleeps or reboots there)."""


@pytest.fixture(autouse=True)
def _not_powering_off(monkeypatch):
    monkeypatch.setattr(metal, "_powering_off", False)


def _cmdline(tmp_path, text: str) -> str:
    path = tmp_path / "cmdline"
    path.write_text(text)
    return str(path)


def test_a_failed_machined_reboots_after_a_ten_second_countdown(tmp_path, caplog):
    slept: list[float] = []
    calls: list[str] = []
    metal.on_exit(sleep=slept.append, restart=lambda: calls.append("restart"),
                  halt=lambda: calls.append("halt"),
                  cmdline_path=_cmdline(tmp_path, "console=ttyS0 talos.platform=metal"))
    assert calls == ["restart"]
    assert sum(slept) == 11  # "rebooting in 10 seconds" ... "in 0 seconds"
    assert "machined failed; rebooting in 10 seconds" in caplog.text


def test_a_shutdown_powers_off_without_a_countdown(tmp_path):
    slept: list[float] = []
    calls: list[str] = []
    metal.powering_off()
    metal.on_exit(sleep=slept.append, restart=lambda: calls.append("restart"),
                  halt=lambda: calls.append("halt"),
                  cmdline_path=_cmdline(tmp_path, "panic=0"))
    assert (calls, slept) == (["halt"], [])


def test_panic_0_on_the_command_line_keeps_a_failed_machine_as_it_is(tmp_path, caplog):
    calls: list[str] = []

    def sleep(seconds: float) -> None:
        raise Stop

    with pytest.raises(Stop):
        metal.on_exit(sleep=sleep, restart=lambda: calls.append("restart"),
                      halt=lambda: calls.append("halt"),
                      cmdline_path=_cmdline(tmp_path, "console=ttyS0 panic=0"))
    assert calls == []
    assert "panic=0 kernel flag found, sleeping forever" in caplog.text
