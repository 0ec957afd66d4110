"""machined's API server boundary: every handler guarded by `talos.nodeserver.boundary`.

Requests that do not decode are refused as INVALID_ARGUMENT naming the request type; a
TalosError aborts the call with the status code it names and its message; anything else is
logged with its traceback and becomes INTERNAL (`talos.nodeserver.status`), and the server
(PID 1) keeps serving.
"""

from __future__ import annotations

from talos.nodeserver.boundary import Boundary

#: the name machined's server and maintenance mode install it under
ErrorInterceptor = Boundary

__all__ = ["ErrorInterceptor"]
