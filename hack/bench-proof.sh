#!/usr/bin/env bash
# Prints what the build-time proof costs, as tables:
#   1. every example whose rewrite mounts secrets, built through hushbuild
#      (rewrite, instrumented steps, checks) next to the stock frontend
#      building its Dockerfile.hushbuild (the same build without the proof);
#   2. the checker's scan throughput on a large tree next to only reading it;
#   3. the frontend image next to the stock frontend image.
#
#   hack/bench-proof.sh [ROUNDS] [SIZE_MIB]    (defaults: 3 rounds, 1024 MiB)
#
# It brings the lab up (hack/lab.sh up) and pushes this checkout's frontend.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
size=${2:-1024}
hack/lab.sh up
hack/lab.sh frontend
eval "$(hack/lab.sh env)"

echo "== builds: hushbuild (with the proof) vs stock on the rewritten Dockerfile"
go run ./hack/bench-proof -rounds "$rounds"

echo
echo "== checker throughput on ${size} MiB (scan vs only reading the same files)"
go test ./checker -run '^$' -bench 'ScanVsRead' -benchtime 5x -checker.benchmib "$size" |
	grep -E '^Benchmark|ratio' || true

echo
echo "== frontend image size (the static binary is the whole image)"
h=$(stat -c %s "$HUSHBUILD_LAB_BIN/hushbuild-frontend")
s=$(stat -c %s "$HUSHBUILD_LAB_BIN/dockerfile-frontend")
awk -v h="$h" -v s="$s" 'BEGIN { printf "hushbuild %.1f MB, stock %.1f MB: %.2fx\n", h/1e6, s/1e6, h/s }'
