"""apid: see docs/DESIGN.md, "Processes on one node"."""
