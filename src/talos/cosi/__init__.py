"""COSI: resources, state with watch, controller runtime and the State gRPC API."""
