"""`python -m talos imager installer --push REF`: a registry that does not listen fails the
command before anything is built, with one line naming the registry."""

from __future__ import annotations

import pytest

from talos.imager import cli


def test_unreachable_registry_fails_before_building(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    def no_build(**_: object) -> None:
        raise AssertionError("built although the registry does not listen")

    monkeypatch.setattr(cli, "build", no_build)
    rc = cli.main(["installer", "--push", "127.0.0.1:9/siderolabs/installer:v1",
                   "--plain-http"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("imager: push: registry 127.0.0.1:9 unreachable"), err
    assert "Traceback" not in err


def test_push_is_required() -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["installer"])
    assert exc.value.code == 2
