"""Fixtures: every State implementation the conformance suite runs against."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from talos.cosi.state import State

NS = "test"
TYPE = "Things.test.talos.dev"


@pytest.fixture(params=["memory", "persisted"])
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[State]:
    if request.param == "memory":
        yield State(watch_buffer=64)
    else:
        yield await State.open(persist_dir=tmp_path / "state", persist=[NS], watch_buffer=64)
