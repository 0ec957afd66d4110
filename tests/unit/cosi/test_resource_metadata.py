"""Resource metadata copies: what `evolve` keeps and what it changes."""

from __future__ import annotations

from talos.cosi.resource import Metadata, Phase


def test_evolve_with_nothing_changed_is_the_same_metadata() -> None:
    md = Metadata("ns", "Things.test.talos.dev", "a", version=3, owner="ctrl")
    # empty maps for empty labels, the same owner and version: nothing changes
    assert md.evolve(labels={}, annotations={}) is md
    assert md.evolve(owner="ctrl", version=3, phase=Phase.RUNNING) is md


def test_evolve_changes_only_what_differs() -> None:
    md = Metadata("ns", "Things.test.talos.dev", "a", version=3, labels={"b": "2", "a": "1"})
    same_labels = md.evolve(labels={"a": "1", "b": "2"})
    assert same_labels is md
    changed = md.evolve(labels={"a": "1"}, version=4)
    assert changed is not md
    assert dict(changed.labels) == {"a": "1"} and changed.version == 4
    assert dict(md.labels) == {"a": "1", "b": "2"} and md.version == 3
    assert md.evolve(labels={}).labels == {}
