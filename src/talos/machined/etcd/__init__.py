"""etcd on control planes: settings from the machine config, certificates, the etcd gRPC
client, and the manager that bootstraps, joins, leaves and recovers the member."""
