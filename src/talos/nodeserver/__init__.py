"""What the node's network servers share: apid, trustd and machined's maintenance API.

- `tls`: a grpc.aio server listening with TLS (optionally requiring client certificates from
  a CA), with one clear error when it cannot listen;
- `boundary`: every handler guarded (`guard`, or the `Boundary` interceptor): requests that
  do not decode are INVALID_ARGUMENT naming their type (`decoding`), and every failure
  becomes the one status `status` maps it to (also used by machined and the discovery
  service);
- `process`: the `python -m talos <component>` life: read the files, serve until SIGTERM or
  SIGINT, say where it serves, one clear line and exit 1 on any TalosError.

It imports `talos.machinery` only, never apid, trustd or machined (they import it).
"""
