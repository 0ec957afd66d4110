"""COSI: resources, state with watch, controller runtime and the State gRPC API.

How the pieces fit (each in its own module):

* Declare a resource type once, in `talos.machinery.resources.<namespace>` (so apid and
  talosctl see it too): a frozen spec dataclass plus `declare(ResourceType(type, namespace,
  Spec, aliases=..., print_columns=..., sensitive=..., api_writable=..., proto=...))`; `proto`
  (upstream's message and a converter) is what `wire`/`protospec` put in `proto_spec`.
* `state.State` stores resources (`resource.Resource(metadata, spec)`), versions them,
  enforces owners and finalizers, answers label/ID queries and serves watches. Namespaces
  named in `State.open(persist_dir=..., persist=[...])` are written atomically to disk.
* `declaration` holds what a controller declares (inputs/outputs), `controller` the
  protocol with its `run` coroutine; `runtime.Runtime(state, clock=...)` registers and
  runs controllers (`await runtime.run()` inside a TaskGroup; cancel it to stop), each
  getting a `context.ControllerContext` limited to what it declared.
* `meta.register_definitions(state)` fills the `meta` namespace (ResourceDefinitions,
  Namespaces) from the declared types; call it once at start.
* `serve.add_services(server, state, runtime, authorize=...)` adds `cosi.resource.State` and
  `inspect.InspectService` to a grpc.aio server.
* `testing.ControllerHarness(controller, ...)` runs controllers on a fresh State and Runtime
  with a fake clock for tests: put inputs, wait for outputs (never sleeping), advance time.
"""
