"""Maintenance mode: a node without a config serves a short, insecure API on :50000."""
