#!/usr/bin/env bash
# Regenerates the Python gRPC/protobuf code from protos/ into libs/generated/.
# The output is never edited by hand; tests/unit/contracts/test_generated_fresh.py
# fails when it is stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/libs/generated}
python=${PYTHON:-$root/.venv/bin/python}
rm -rf "$out/genai"
mkdir -p "$out"
"$python" -m grpc_tools.protoc \
  -I "$root/protos" \
  --python_out="$out" --grpc_python_out="$out" --pyi_out="$out" \
  "$root"/protos/genai/v1/*.proto
touch "$out/genai/__init__.py" "$out/genai/v1/__init__.py"
