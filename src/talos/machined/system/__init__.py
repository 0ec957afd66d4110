"""Service supervisor: reaper, process runner, health checks, log buffers, service states."""
