"""Stage 0 of a sandbox node booted from the image hands over to the image's machined in the
clean node environment: the image's interpreter and PATH, nothing of the host's Python
settings or of the caller's environment, and the marker that the node runs from an image."""

from __future__ import annotations

from talos.machined import mounts
from talos.machinery import constants


def test_image_machined_runs_the_images_python_with_a_clean_environment(monkeypatch):
    monkeypatch.setenv(constants.SANDBOX_ENV_IMAGE, "/n/boot/A/rootfs.sqsh")
    monkeypatch.setenv("PYTHONPATH", "/host/checkout")
    monkeypatch.setenv("PYTHONHOME", "/host/venv")
    monkeypatch.setenv("TALOSCONFIG", "/root/.talos/config")
    monkeypatch.setenv("TALOS_FORKSERVER", "0")
    argv, env = mounts.image_machined()
    assert argv == ["/usr/bin/python3", "-m", "talos", "machined", "--sandbox"]
    assert env["PATH"] == mounts.IMAGE_PATH
    assert env[constants.SANDBOX_ENV_IMAGE] == "/n/boot/A/rootfs.sqsh"
    assert env["TALOS_FORKSERVER"] == "0"  # talos's own switch carries over
    for gone in ("PYTHONPATH", "PYTHONHOME", "TALOSCONFIG", constants.SANDBOX_ENV_STATE,
                 constants.SANDBOX_ENV_BOOT):
        assert gone not in env


def test_only_the_host_machined_of_an_image_node_is_stage_0(monkeypatch):
    monkeypatch.delenv(constants.SANDBOX_ENV_IMAGE, raising=False)
    assert not mounts.image_node() and not mounts.image_stage0()
    monkeypatch.setenv(constants.SANDBOX_ENV_IMAGE, "/n/boot/A/rootfs.sqsh")
    monkeypatch.setattr(mounts, "already_set_up", lambda: False)
    assert mounts.image_node() and mounts.image_stage0()
    # the image's machined finds the mounts made: it runs the node, it is no stage 0
    monkeypatch.setattr(mounts, "already_set_up", lambda: True)
    assert mounts.image_node() and not mounts.image_stage0()
