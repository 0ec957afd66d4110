from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integration.apid.harness import Cluster, Pki, cluster, new_pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    return new_pki()


@pytest.fixture
async def one(pki: Pki) -> AsyncIterator[Cluster]:
    async with cluster(["127.0.0.2"], pki=pki) as c:
        yield c


@pytest.fixture
async def three(pki: Pki) -> AsyncIterator[Cluster]:
    async with cluster(["127.0.0.2", "127.0.0.3", "127.0.0.4"], pki=pki) as c:
        yield c
