"""Every duration flag of talosctl takes Go durations (`5m`, `1h30m`, `90s`), as upstream's
cobra `DurationVar` flags do; plain seconds still work; a bad value names the flag."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from talos.talosctl.main import cli


def _command(path: str) -> click.Command:
    cmd: click.Command = cli
    ctx = click.Context(cli)
    for name in path.split():
        assert isinstance(cmd, click.Group)
        sub = cmd.get_command(ctx, name)
        assert sub is not None, path
        cmd = sub
    return cmd


def _timeout_options(cmd: click.Command, path: str = "") -> list[tuple[str, click.Option]]:
    out = []
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None:
                out += _timeout_options(sub, f"{path} {name}".strip())
        return out
    for p in cmd.params:
        if isinstance(p, click.Option) and "timeout" in (p.name or ""):
            out.append((path, p))
    return out


def test_no_timeout_flag_takes_float_seconds_only() -> None:
    options = _timeout_options(cli)
    assert {path for path, _ in options} >= {"reboot", "shutdown", "reset", "apply-config"}
    floats = [f"{path} {max(p.opts, key=len)}" for path, p in options
              if isinstance(p.type, click.types.FloatParamType)]
    assert floats == []


@pytest.mark.parametrize("command", ["reboot", "shutdown", "reset"])
@pytest.mark.parametrize(("value", "seconds"), [("5m", 300.0), ("1h30m", 5400.0),
                                                ("90s", 90.0), ("30m0s", 1800.0),
                                                ("0.5", 0.5)])
def test_power_timeouts_are_go_durations(command: str, value: str, seconds: float) -> None:
    cmd = _command(command)
    (opt,) = [p for p in cmd.params if p.name == "timeout"]
    assert opt.type.convert(value, opt, None) == seconds
    assert opt.type.convert(opt.default, opt, None) == 1800.0


def test_a_bad_duration_is_a_usage_error_naming_the_flag() -> None:
    r = CliRunner().invoke(cli, ["reboot", "--timeout", "5 minutes"])
    assert r.exit_code == 2
    assert "Invalid value for --timeout: invalid duration '5 minutes' (expected e.g. 30s, " \
           "5m, 1h30m or 500ms)" in r.output
