#!/usr/bin/env bash
# The whole test suite: lint, types, generated-code freshness, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c "import talos, grpc_tools, pytest_timeout" 2>/dev/null || scripts/install.sh
python3 -m ruff check src tests bench scripts
python3 -m mypy src
python3 scripts/gen_proto.py --check
exec python3 -m pytest -p no:cacheprovider "$@"
