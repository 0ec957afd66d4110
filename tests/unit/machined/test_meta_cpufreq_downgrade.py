"""META store (STATE file, upstream's capacity and errors), CPUFreqStats from a sysfs tree,
and the etcd downgrade version checks (upstream's messages)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from talos.machined.server.cpufreq import cpufreq_stats
from talos.machined.server.etcd_downgrade import validate_version
from talos.machined.server.meta import check_key
from talos.machined.server.metastore import DATA_LENGTH, MetaFull, MetaStore
from talos.machinery.errors import InvalidArgument, NotFound


async def test_meta_keys_are_written_atomically_and_deleted(tmp_path: Path) -> None:
    store = MetaStore(str(tmp_path / "meta.json"))
    await store.write(0x0A, b"\x00binary\xff")
    await store.write(0x0A, b"replaced")
    await store.write(200, b"two")
    assert store.read() == {0x0A: b"replaced", 200: b"two"}
    assert set(json.loads((tmp_path / "meta.json").read_text())) == {"0x0a", "0xc8"}
    assert os.stat(tmp_path / "meta.json").st_mode & 0o777 == 0o600
    assert os.listdir(tmp_path) == ["meta.json"]  # no temp file left
    await store.delete(0x0A)
    with pytest.raises(NotFound, match="meta key not found"):
        await store.delete(0x0A)
    assert MetaStore(str(tmp_path / "meta.json")).read() == {200: b"two"}


async def test_meta_refuses_what_does_not_fit_and_keys_above_uint8(tmp_path: Path) -> None:
    store = MetaStore(str(tmp_path / "meta.json"))
    await store.write(1, b"x" * (DATA_LENGTH - 20 - 8 - 100))
    with pytest.raises(MetaFull, match="meta write failed") as e:
        await store.write(2, b"y" * 200)
    assert e.value.code == "RESOURCE_EXHAUSTED"
    assert set(store.read()) == {1}
    with pytest.raises(InvalidArgument, match="key must be a uint8"):
        check_key(256)


def _cpu(root: Path, n: int, files: dict[str, str] | None) -> None:
    d = root / f"cpu{n}"
    d.mkdir()
    if files is not None:
        (d / "cpufreq").mkdir()
        for name, value in files.items():
            (d / "cpufreq" / name).write_text(value + "\n")


def test_cpufreq_lists_cpus_with_cpufreq_in_order_and_nothing_without(tmp_path: Path) -> None:
    full = {"cpuinfo_cur_freq": "2400000", "cpuinfo_min_freq": "800000",
            "cpuinfo_max_freq": "3600000", "scaling_governor": "performance"}
    _cpu(tmp_path, 10, full)
    _cpu(tmp_path, 2, {**full, "cpuinfo_cur_freq": "1200000"})
    _cpu(tmp_path, 3, {"scaling_governor": "powersave"})  # frequencies unreadable
    _cpu(tmp_path, 4, None)  # no cpufreq at all
    (tmp_path / "cpufreq").mkdir()  # the policy directory is not a CPU
    stats = cpufreq_stats(str(tmp_path))
    assert [s.current_frequency for s in stats] == [1200000, 0, 2400000]
    assert stats[2].maximum_frequency == 3600000 and stats[2].governor == "performance"
    assert stats[1].governor == ""  # upstream leaves an entry without frequencies empty
    assert cpufreq_stats(str(tmp_path / "absent")) == []


@pytest.mark.parametrize(("version", "message"), [
    ("", "version is required"), ("3", "MAJOR.MINOR"), ("3.5.1", "MAJOR.MINOR"),
    ("x.5", "major version should be a number"), ("3.y", "minor version should be a number"),
    ("3.4", "only supported to 3.5 and later"), ("2.9", "only supported to 3.5 and later")])
def test_downgrade_version_checks_are_upstreams(version: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        validate_version(version)
    assert validate_version("3.5") == (3, 5)
