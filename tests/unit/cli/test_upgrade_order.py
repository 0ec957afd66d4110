"""`talosctl upgrade`/`rollback` send to the endpoint's own node last: it reboots once its
slot is written, and its apid proxies the calls to the other nodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from talos.talosctl.upgrade import endpoint_last


@dataclass
class FakeSession:
    endpoint_host: str


@dataclass
class Reply:
    messages: list[str]


async def test_the_endpoint_node_is_sent_to_after_the_others() -> None:
    sent: list[tuple[tuple[str, str], ...]] = []

    async def send(md: Any) -> Reply:
        sent.append(md)
        return Reply([v for _, v in md])

    md = (("nodes", "10.5.0.2"), ("nodes", "10.5.0.3"), ("nodes", "10.5.0.4"))
    reply = await endpoint_last(FakeSession("10.5.0.2"), md, send)  # type: ignore[arg-type]
    assert sent == [(("nodes", "10.5.0.3"), ("nodes", "10.5.0.4")), (("nodes", "10.5.0.2"),)]
    assert reply.messages == ["10.5.0.3", "10.5.0.4", "10.5.0.2"]


async def test_one_call_when_the_endpoint_is_not_among_the_nodes() -> None:
    sent: list[Any] = []

    async def send(md: Any) -> Reply:
        sent.append(md)
        return Reply([])

    md = (("nodes", "10.5.0.3"),)
    await endpoint_last(FakeSession("10.5.0.2"), md, send)  # type: ignore[arg-type]
    assert sent == [md]
