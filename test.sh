#!/usr/bin/env bash
# Run the test suite (CPU only, a few minutes), making .venv first if it is missing.
# Extra arguments go to pytest (e.g. -k crossref).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-env.sh
.venv/bin/python -m pytest "$@"
