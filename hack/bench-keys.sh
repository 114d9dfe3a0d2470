#!/usr/bin/env bash
# Measures what the frontend's search of the build context for private keys
# transfers and costs: a context of FILES random text files (about 27 KB
# each) and one small app.py, built through hushbuild with two Dockerfiles,
# one that copies the whole context (`COPY . .`: the search reads the
# build's own transfer) and one that copies app.py only (the search
# transfers only that path), each cold (after `buildctl prune --all`) and
# warm. It prints, for each, the wall time, the number of steps and the
# sizes of the context transfers in the progress output.
#
#   hack/bench-keys.sh [FILES]    (default: 3000 files, about 81 MB)
#
# It brings the lab up (hack/lab.sh up), pushes this checkout's frontend,
# and prunes the lab's build cache (--all).
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-3000}
hack/lab.sh up >/dev/null
hack/lab.sh frontend >/dev/null
eval "$(hack/lab.sh env)"
hush=${HUSHBUILD_FRONTEND_IMAGE:-$HUSHBUILD_REGISTRY/hushbuild/frontend:dev}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ctx=$work/ctx
mkdir -p "$ctx/src"
for ((i = 0; i < files; i++)); do head -c 20000 /dev/urandom | base64 >"$ctx/src/f$i.txt"; done
echo 'print(1)' >"$ctx/app.py"
for df in whole one; do
	case $df in
	whole) copy='COPY . .' ;;
	one) copy='COPY app.py .' ;;
	esac
	# FROM the test image itself, not a named context: the frontend
	# resolves a base image to know it has no ONBUILD triggers (else it
	# searches the whole context).
	printf '# syntax=%s\nFROM %s\nWORKDIR /app\n%s\nRUN echo built\n' "$hush" "$HUSHBUILD_TESTBASE_IMAGE" "$copy" >"$ctx/Dockerfile"
	buildctl prune --all >/dev/null 2>&1 || true
	for run in cold warm; do
		log=$work/$df-$run.log
		start=$(date +%s.%N)
		docker buildx build --progress=plain --output type=cacheonly "$ctx" >"$log" 2>&1
		end=$(date +%s.%N)
		steps=$(grep -cE '^#[0-9]+ \[' "$log" || true)
		xfer=$(grep -E 'transferring context' "$log" | grep -oE '[0-9.]+[kMG]?B' | tr '\n' ' ' || true)
		printf '%-5s %-4s %6.2fs  %2s steps  context transfers: %s\n' "$df" "$run" "$(echo "$end - $start" | bc)" "$steps" "$xfer"
	done
done
