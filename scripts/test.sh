#!/usr/bin/env bash
# The whole test suite: lint, types, generated-code freshness, then pytest in two stages:
# the main suite (with the `image` tests: sandbox nodes booted from the OS image, which they
# build once), then the VM stage (marker `vm`: boots the image in qemu under software
# emulation, minutes on 2 cores). Arguments go to pytest and replace the
# two stages (e.g. `scripts/test.sh tests/unit -x`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import talos, grpc_tools, pytest_timeout" 2>/dev/null || scripts/install.sh
python3 -m ruff check src tests bench scripts
python3 -m mypy src
python3 scripts/gen_proto.py --check
if (($#)); then
  exec python3 -m pytest -p no:cacheprovider "$@"
fi
echo "== main suite" >&2
python3 -m pytest -p no:cacheprovider --durations=15 -m "not vm"
echo "== VM stage" >&2
exec python3 -m pytest -p no:cacheprovider --durations=15 -m vm
