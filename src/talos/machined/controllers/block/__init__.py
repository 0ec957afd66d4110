"""Controllers of the block resources (`Disks`, `DiscoveredVolumes`, `VolumeStatuses`)."""
