#!/usr/bin/env bash
# Install everything, then run the main job. Until `talosctl cluster create` lands
# (issue 11), the main job is the most useful thing that exists; see README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
talosctl version --client

# Generate a cluster's secrets, machine configs and admin talosconfig, then validate them.
out=_out
mkdir -p "$out"
talosctl gen secrets -o "$out/secrets.yaml" --force
talosctl gen config quickstart https://10.5.0.2:6443 --with-secrets "$out/secrets.yaml" \
  --output-dir "$out" --force
for f in controlplane worker; do
  talosctl validate --config "$out/$f.yaml" --mode metal
done
talosctl --talosconfig "$out/talosconfig" config info
echo
echo "Generated in $out/: secrets.yaml, controlplane.yaml, worker.yaml, talosconfig"
