"""apid keeps a bounded pool of channels to other nodes."""

from __future__ import annotations

from pathlib import Path


async def test_remote_channels_are_bounded(tmp_path: Path) -> None:
    from talos.apid import backends as b
    from talos.machinery.pki import CertificateAuthority, IssueOptions
    ca = CertificateAuthority.generate()
    pair = ca.issue_key_pair(IssueOptions(organizations=("os:impersonator",)))
    pool = b.Backends(str(tmp_path / "s"), ca_pem=ca.to_pem().crt, cert_pem=pair.crt,
                      key_pem=pair.key, remote_port=1)
    try:
        first = pool.remote("10.255.0.0")
        for i in range(b.MAX_REMOTE_CHANNELS + 10):
            pool.remote(f"10.255.{i // 250}.{i % 250 + 1}")
        assert len(pool._remote) == b.MAX_REMOTE_CHANNELS
        assert "10.255.0.0" not in pool._remote and first is not None
    finally:
        await pool.close()
    assert not pool._closing
