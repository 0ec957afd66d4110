"""Applying machine configs: the persisted config (STATE), which changes need a reboot, the
ApplyConfiguration modes, and resetting a node."""
