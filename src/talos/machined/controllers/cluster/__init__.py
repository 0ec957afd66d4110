"""Cluster discovery controllers (`cluster` namespace), after Talos's design:

DiscoveryConfig (config) + Identity (STATE) + HostnameStatus/NodeAddress/MachineType
  -> LocalAffiliateController -> Affiliate <local node id>
  -> DiscoveryServiceController: pushes it, encrypted, to the discovery service; watches the
     others (Affiliate <their node id>)
  -> MemberController: one Member per affiliate with a nodename (id = nodename).
"""
