"""The metal boot target over an ESP directory: systemd-boot's boot counting in the UKI
file names, loader.conf's default, blessing, automatic fallback and explicit rollback.
systemd-boot's own part (counting a try down by renaming `+1` to `+0-1` before it starts
the entry) is done here by hand, as it does it."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from talos.machined.install import esp
from talos.machined.upgrade.metal import EspAccess, MetalTarget
from talos.machined.upgrade.target import BootImage, BootTarget, DigestMismatch
from talos.machinery.errors import FailedPrecondition


def _uki(tag: str) -> bytes:
    return f"UKI of {tag}".encode() * 100


def _image(tag: str) -> BootImage:
    return BootImage(tag, "sha256:" + hashlib.sha256(_uki(tag)).hexdigest())


class Node:
    """The ESP directory plus what systemd-boot would do and say (LoaderEntrySelected)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.selected: str | None = None
        self.target = MetalTarget(EspAccess(directory=root, selected=lambda: self.selected))

    def linux(self) -> list[str]:
        return sorted(os.listdir(os.path.join(self.root, esp.LINUX_DIR)))

    def boot(self) -> str:
        """systemd-boot: choose, count a try down, start; returns the started file name."""
        entries = esp.entries(self.root)
        chosen = esp.next_boot(entries, esp.read_default(self.root))
        assert chosen is not None
        self.selected = chosen.id
        if chosen.counting and chosen.left:
            done = (chosen.done or 0) + 1
            new = chosen.name.replace(f"+{chosen.left}", f"+{chosen.left - 1}-{done}")
            if chosen.done is not None:
                new = chosen.name.replace(f"+{chosen.left}-{chosen.done}",
                                          f"+{chosen.left - 1}-{done}")
            linux = os.path.join(self.root, esp.LINUX_DIR)
            os.rename(os.path.join(linux, chosen.name), os.path.join(linux, new))
            return new
        return chosen.name

    def upgrade(self, tag: str) -> str:
        slot = self.target.slot_to_write()
        data = _uki(tag)
        self.target.write(slot, io.BytesIO(data), len(data), _image(tag))
        self.target.switch(slot, _image(tag))
        return slot


@pytest.fixture
def node(tmp_path) -> Node:
    sd_boot, uki = tmp_path / "sd-boot.efi", tmp_path / "uki.efi"
    sd_boot.write_bytes(b"systemd-boot")
    uki.write_bytes(_uki("v1"))
    root = tmp_path / "esp"
    root.mkdir()
    esp.install_bootloader(str(root), str(sd_boot), str(uki))
    # install names the entry from the UKI's .osrel; this fake has none
    n = Node(str(root))
    n.boot()
    return n


def test_installed_esp_has_systemd_boot_and_the_uki_as_the_good_default_a_entry(node):
    assert isinstance(node.target, BootTarget)
    for path in esp.BOOT_FILES:
        assert os.path.exists(os.path.join(node.root, path))
    assert node.linux() == ["Talos-unknown.efi"]
    assert esp.read_default(node.root) == "talos-unknown.efi"
    state = node.target.state()
    assert (state.current, state.default, state.on_trial) == ("A", "A", False)


def test_upgrade_writes_b_with_one_try_and_a_healthy_boot_blesses_it(node):
    assert node.upgrade("v2") == "B"
    assert "Talos-v2~B+1.efi" in node.linux()
    assert esp.read_default(node.root) == "talos-v2~b+1.efi"
    assert node.target.state().default == "B" and node.target.state().on_trial
    assert node.boot() == "Talos-v2~B+0-1.efi"
    state = node.target.state()
    assert (state.current, state.default, state.on_trial) == ("B", "B", True)
    with pytest.raises(FailedPrecondition, match="slot A holds the only known-good image"):
        node.target.slot_to_write()
    assert node.target.mark_good() is True
    assert node.linux() == ["Talos-unknown.efi", "Talos-v2~B.efi"]
    assert esp.read_default(node.root) == "talos-v2~b.efi"
    assert node.boot() == "Talos-v2~B.efi"
    assert node.target.mark_good() is False
    assert node.target.state().images["B"] == _image("v2")


def test_failed_trial_boot_falls_back_to_the_old_entry_and_says_so(node):
    node.upgrade("v2")
    node.boot()  # the trial: it never reaches running (no mark_good)
    assert node.boot() == "Talos-unknown.efi"  # systemd-boot: the bad entry sorts last
    state = node.target.state()
    assert state.current == "A"
    assert "slot B (v2) did not reach a healthy running node" in state.last_selection
    assert node.target.mark_good() is True  # names the booted entry the default again
    assert esp.read_default(node.root) == "talos-unknown.efi"
    assert node.target.slot_to_write() == "B"  # the failed slot may be written again


def test_the_only_known_good_entry_is_not_written_while_the_other_is_on_trial(node):
    node.upgrade("v2")
    with pytest.raises(FailedPrecondition, match="slot A holds the only known-good image"):
        node.target.slot_to_write()


def test_digest_mismatch_changes_nothing(node):
    before = (node.linux(), esp.read_default(node.root))
    data = b"not what the image says"
    with pytest.raises(DigestMismatch, match="sha256 is sha256:"):
        node.target.write("B", io.BytesIO(data), len(data), _image("v2"))
    assert (node.linux(), esp.read_default(node.root)) == before


def test_rollback_names_the_previous_entry_the_default(node):
    node.upgrade("v2")
    node.boot()
    node.target.mark_good()
    assert node.target.rollback() == BootImage("unknown", node.target.state().images["A"].digest)
    assert esp.read_default(node.root) == "talos-unknown.efi"
    assert node.boot() == "Talos-unknown.efi"
    # the next upgrade replaces B, the entry rolled back from
    assert node.upgrade("v3") == "B"
    assert node.linux() == ["Talos-unknown.efi", "Talos-v3~B+1.efi"]


def test_rollback_during_a_trial_boot_names_the_old_entry(node):
    node.upgrade("v2")
    node.boot()  # B on trial, running
    assert node.target.rollback().tag == "unknown"
    assert node.boot() == "Talos-unknown.efi"
    assert node.target.state().current == "A"


def test_rollback_to_an_entry_that_failed_its_trial_is_refused(node):
    node.upgrade("v2")
    node.boot()
    node.boot()  # fell back to A
    node.target.mark_good()
    with pytest.raises(FailedPrecondition, match="slot B did not reach a healthy running node"):
        node.target.rollback()


def test_uki_tag_comes_from_its_osrel_section(tmp_path):
    # a minimal PE with one .osrel section
    import struct

    osrel = b'NAME="Talos"\nVERSION_ID=v1.10.0-py.0.1.0\n'
    data = bytearray(0x400)
    struct.pack_into("<I", data, 0x3C, 0x80)
    data[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<H", data, 0x86, 1)  # one section
    struct.pack_into("<H", data, 0x94, 0)  # no optional header
    table = 0x80 + 24
    data[table:table + 8] = b".osrel\0\0"
    struct.pack_into("<II", data, table + 16, len(osrel), 0x200)
    data[0x200:0x200 + len(osrel)] = osrel
    path = tmp_path / "uki.efi"
    path.write_bytes(bytes(data))
    assert esp.uki_osrel(str(path))["VERSION_ID"] == "v1.10.0-py.0.1.0"
    assert esp.entry_name("v1.10.0+dirty", "B", 1) == "Talos-v1.10.0_dirty~B+1.efi"
