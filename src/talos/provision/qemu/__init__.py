"""The qemu provisioner: each node a VM booted from the imager's assets, on a bridge.

`talosctl cluster create qemu` uses it; the bridge, CIDR check, configs, state record,
etcd bootstrap and `cluster destroy` are the sandbox provisioner's (talos.provision).
"""
