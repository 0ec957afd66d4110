"""`talosctl config ...` against real talosconfig files."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from ruamel.yaml import YAML

from talos.machinery.client.talosconfig import Context, Talosconfig
from talos.machinery.secrets import SecretsBundle

from .conftest import Run


def write_config(path: Path, current: str, **contexts: Context) -> None:
    Talosconfig(context=current, contexts=contexts).save(path)


def test_contexts_table_and_switching(talosctl: Run, tmp_path: Path) -> None:
    tc = tmp_path / "tc"
    many = tuple(f"10.5.0.{i}" for i in range(2, 7))
    write_config(tc, "b", a=Context(endpoints=("1.1.1.1",)),
                 b=Context(endpoints=("10.5.0.2", "10.5.0.3"), nodes=many))
    r = talosctl("--talosconfig", str(tc), "config", "contexts")
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "CURRENT   NAME   ENDPOINTS           NODES\n"
        "          a      1.1.1.1             \n"
        "*         b      10.5.0.2,10.5.0.3   10.5.0.2,10.5.0.3,10.5.0.4...\n")
    r = talosctl("--talosconfig", str(tc), "config", "context", "a")
    assert r.returncode == 0, r.stderr
    assert Talosconfig.load(tc).context == "a"
    r = talosctl("--talosconfig", str(tc), "config", "context", "zzz")
    assert r.returncode == 1
    assert r.stderr.strip() == "Error: context 'zzz' is not defined"


def test_endpoint_and_node_edit_current_or_named_context(talosctl: Run, tmp_path: Path) -> None:
    tc = tmp_path / "tc"
    write_config(tc, "a", a=Context(ca="Y2E="), b=Context())
    assert talosctl("--talosconfig", str(tc), "config", "endpoint", "10.5.0.2", " 10.5.0.3 "
                    ).returncode == 0
    assert talosctl("--talosconfig", str(tc), "config", "nodes", "10.5.0.8").returncode == 0
    assert talosctl("--talosconfig", str(tc), "config", "node", "10.5.0.9").returncode == 0
    assert talosctl("--talosconfig", str(tc), "--context", "b", "config", "node", "x"
                    ).returncode == 0
    cfg = Talosconfig.load(tc)
    assert cfg.get("a") == Context(endpoints=("10.5.0.2", "10.5.0.3"), nodes=("10.5.0.9",),
                                   ca="Y2E=")
    assert cfg.get("b").nodes == ("x",)
    assert stat.S_IMODE(tc.stat().st_mode) == 0o600
    r = talosctl("--talosconfig", str(tc), "config", "endpoint")
    assert r.returncode == 2 and "Missing argument" in r.stderr


def test_lookup_uses_env_then_home(talosctl: Run, tmp_path: Path) -> None:
    env_tc = tmp_path / "env-tc"
    write_config(env_tc, "fromenv", fromenv=Context())
    r = talosctl("config", "contexts", extra_env={"TALOSCONFIG": str(env_tc)})
    assert "fromenv" in r.stdout
    home_tc = tmp_path / "home" / ".talos" / "config"
    write_config(home_tc, "fromhome", fromhome=Context())
    r = talosctl("config", "contexts")
    assert "fromhome" in r.stdout and "fromenv" not in r.stdout
    r = talosctl("--talosconfig", str(env_tc), "config", "contexts",
                 extra_env={"TALOSCONFIG": str(home_tc)})
    assert "fromenv" in r.stdout


def test_merge_renames_clashes_and_switches_context(talosctl: Run, tmp_path: Path) -> None:
    tc, other = tmp_path / "tc", tmp_path / "other"
    write_config(tc, "demo", demo=Context(endpoints=("1.1.1.1",)))
    write_config(other, "demo", demo=Context(endpoints=("2.2.2.2",)))
    r = talosctl("--talosconfig", str(tc), "config", "merge", str(other))
    assert r.returncode == 0, r.stderr
    assert r.stderr == 'renamed talosconfig context "demo" -> "demo-1"\n'
    cfg = Talosconfig.load(tc)
    assert cfg.context == "demo-1"
    assert cfg.get("demo-1").endpoints == ("2.2.2.2",)
    r = talosctl("--talosconfig", str(tc), "config", "merge", str(tmp_path / "missing"))
    assert r.returncode == 1 and "does not exist" in r.stderr


def test_add_and_remove(talosctl: Run, tmp_path: Path) -> None:
    tc = tmp_path / "tc"
    (tmp_path / "ca.crt").write_text("ca")
    (tmp_path / "c.crt").write_text("crt")
    (tmp_path / "c.key").write_text("key")
    r = talosctl("--talosconfig", str(tc), "config", "add", "new", "--ca", "ca.crt",
                 "--crt", "c.crt")
    assert r.returncode == 1
    assert "if either the 'crt' or 'key' flag is specified, both are required" in r.stderr
    r = talosctl("--talosconfig", str(tc), "config", "add", "new", "--ca", "ca.crt",
                 "--crt", "c.crt", "--key", "c.key")
    assert r.returncode == 0, r.stderr
    ctx = Talosconfig.load(tc).get("new")
    assert (ctx.ca_pem, ctx.client.crt, ctx.client.key) == (b"ca", b"crt", b"key")
    assert talosctl("--talosconfig", str(tc), "config", "add", "new-2").returncode == 0
    assert talosctl("--talosconfig", str(tc), "config", "context", "new-2").returncode == 0
    # glob removal, the current context is kept, a "no" answer keeps the rest
    r = talosctl("--talosconfig", str(tc), "config", "remove", "new*", input="n\n")
    assert 'skipping removal of current context "new-2"' in r.stderr
    assert set(Talosconfig.load(tc).contexts) == {"new", "new-2"}
    r = talosctl("--talosconfig", str(tc), "config", "remove", "new*", "-y")
    assert 'removing context "new"' in r.stderr
    assert set(Talosconfig.load(tc).contexts) == {"new-2"}
    r = talosctl("--talosconfig", str(tc), "config", "remove", "zzz", "-y")
    assert r.returncode == 1 and "no contexts matched 'zzz'" in r.stderr


def test_info_text_json_yaml(talosctl: Run, tmp_path: Path) -> None:
    bundle = SecretsBundle.generate()
    client = bundle.client_certificate(("os:reader",))
    tc = tmp_path / "tc"
    write_config(tc, "demo", demo=Context.from_pems(endpoints=("10.5.0.2",), ca=bundle.os.crt,
                                                    client=client))
    r = talosctl("--talosconfig", str(tc), "config", "info")
    assert r.returncode == 0, r.stderr
    expiry = client.certificate.not_valid_after_utc.strftime("%Y-%m-%d")
    assert r.stdout == ("Current context:     demo\n"
                        "Nodes:               not defined\n"
                        "Endpoints:           10.5.0.2\n"
                        "Roles:               os:reader\n"
                        f"Certificate expires: 1 year from now ({expiry})\n")
    info = json.loads(talosctl("--talosconfig", str(tc), "config", "info", "-o", "json").stdout)
    assert info == {"context": "demo", "nodes": [], "endpoints": ["10.5.0.2"],
                    "roles": ["os:reader"], "certTTL": "1 year from now",
                    "certNotAfter": expiry}
    y = YAML(typ="safe").load(
        talosctl("--talosconfig", str(tc), "config", "info", "-o", "yaml").stdout)
    assert y == info
    r = talosctl("--talosconfig", str(tc), "config", "info", "-o", "xml")
    assert r.returncode == 1 and "unknown output format: 'xml'" in r.stderr


def test_broken_talosconfig_is_one_clear_error(talosctl: Run, tmp_path: Path) -> None:
    tc = tmp_path / "tc"
    tc.write_text("context: a\ncontexts:\n  a:\n    endpionts: [x]\n")
    r = talosctl("--talosconfig", str(tc), "config", "info")
    assert r.returncode == 1
    assert "contexts.a.endpionts: unknown field" in r.stderr
    r = talosctl("--talosconfig", str(tmp_path / "none"), "config", "info")
    assert r.returncode == 1 and r.stderr.strip() == "Error: no context is set"


def test_relative_time_matches_go_humanize() -> None:
    import datetime as dt

    from talos.talosctl.config import relative_time

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cases = {dt.timedelta(0): "now", dt.timedelta(seconds=30): "30 seconds from now",
             dt.timedelta(hours=-3): "3 hours ago", dt.timedelta(days=1): "1 day from now",
             dt.timedelta(days=10): "1 week from now",
             dt.timedelta(days=100): "3 months from now",
             dt.timedelta(days=365): "1 year from now",
             dt.timedelta(days=3650): "10 years from now"}
    for delta, text in cases.items():
        assert relative_time(now + delta, now) == text
