"""Local nodes and clusters: sandboxes (namespaces) now, VMs later."""
