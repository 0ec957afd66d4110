"""The services a node knows about, one module per service."""
