#!/usr/bin/env bash
# Install everything, then run the main job. Until `talosctl cluster create` lands
# (issue 11), the main job is the most useful thing that exists; see README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
talosctl version --client
