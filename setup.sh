#!/usr/bin/env bash
# One command from a fresh clone to thesis.pdf: make .venv, install the project, build the thesis.
# Needs Python 3.11+ and no root. Extra arguments go to snakemake (e.g. --config device=cpu).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/ensure-env.sh
.venv/bin/snakemake --cores 4 thesis.pdf "$@"
echo "setup.sh: thesis.pdf is ready"
