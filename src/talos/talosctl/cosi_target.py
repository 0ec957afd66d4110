"""How `get` and `inspect` reach a node until the node API client (apid) exists.

They talk to a COSI State server directly: `--cosi-endpoint` (hidden) or the environment
variable TALOS_COSI_ENDPOINT, e.g. `unix:/run/machined/machined.sock` or `127.0.0.1:50000`
(insecure). To switch to the real client, replace `open_channel` with one that returns the
authenticated channel to apid (node targeting by the `nodes` metadata); the commands only
use the `cosi.resource.State` and `inspect.InspectService` stubs on that channel.
"""

from __future__ import annotations

import os

import click
import grpc

ENV = "TALOS_COSI_ENDPOINT"

endpoint_option = click.option(
    "--cosi-endpoint", envvar=ENV, hidden=True, metavar="ADDRESS",
    help="development: address of a COSI State server (unix:/path or host:port)")


def open_channel(endpoint: str | None) -> grpc.aio.Channel:
    target = endpoint or os.environ.get(ENV, "")
    if not target:
        raise click.ClickException(
            "no node API to talk to: the apid client is not implemented yet; set "
            f"{ENV}=unix:/path/to/socket (or --cosi-endpoint) to reach a State server directly")
    return grpc.aio.insecure_channel(target)


def rpc_error(e: grpc.aio.AioRpcError) -> click.ClickException:
    code = e.code().name.title().replace("_", "") if e.code() else "Unknown"
    return click.ClickException(f"rpc error: code = {code} desc = {e.details()}")
