"""A cluster discovery service compatible with siderolabs/discovery-api's
`sidero.discovery.server.Cluster` (Hello, AffiliateUpdate, AffiliateDelete, List, Watch).

Nodes publish their affiliate data encrypted (AES-GCM with a key only the cluster's nodes
hold): the service stores and relays opaque bytes, keyed by cluster id and affiliate id, and
forgets an affiliate when its TTL runs out. State is in memory only, as upstream's.
`python -m talos discovery --listen HOST:PORT` runs it (plaintext gRPC).
"""
