#!/usr/bin/env bash
# Install everything, then run the main job: a local Talos-style cluster of one control plane
# and one worker (sandboxed nodes: machined as PID 1 in their own namespaces, real etcd),
# waited on until healthy. Its context is merged into ~/.talos/config (or $TALOSCONFIG).
#
#   scripts/quickstart.sh                 # talos-default on 10.5.0.0/24
#   scripts/quickstart.sh --cidr 10.6.0.0/24 --workers 2   # any `cluster create` flags
#
# Re-running it replaces the previous talos-default cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
talosctl version --client

name=talos-default
if [[ -e "$HOME/.talos/clusters/$name" ]]; then
  echo "replacing the existing cluster $name"
  talosctl cluster destroy --name "$name"
fi
talosctl cluster create --name "$name" "$@"
echo
talosctl cluster show --name "$name"
echo
echo "Try: talosctl version          (the context's endpoint is the first control plane)"
echo "     talosctl get members        (the nodes, found through cluster discovery)"
echo "     talosctl health             (every check, on every node)"
echo "     talosctl cluster destroy  (when done)"
