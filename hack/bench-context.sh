#!/usr/bin/env bash
# Measures what the frontend's listing of the build context's credential
# files costs on a large context: the same build (COPY of the whole context)
# of a context of N small files through the stock Dockerfile frontend
# (no listing) and through hushbuild (listing, rewrite, proof), and through
# hushbuild on a context of 10 files (the listing's fixed part). Each round
# builds a fresh copy of the context (so no transfer is incremental) with
# --no-cache, and prints the median wall time of each.
#
#   hack/bench-context.sh [FILES] [ROUNDS]    (defaults: 10000 files, 5 rounds)
#
# It brings the lab up (hack/lab.sh up) and pushes this checkout's frontend.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-10000}
rounds=${2:-5}
hack/lab.sh up >/dev/null
hack/lab.sh frontend >/dev/null
eval "$(hack/lab.sh env)"
stock=$HUSHBUILD_STOCK_FRONTEND_IMAGE
hush=${HUSHBUILD_FRONTEND_IMAGE:-$HUSHBUILD_REGISTRY/hushbuild/frontend:dev}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# make_context DIR N: N files of 1 KiB in 100 directories, and a Dockerfile.
make_context() {
	local dir=$1 n=$2
	mkdir -p "$dir"
	awk -v n="$n" -v d="$dir" 'BEGIN {
		pad = sprintf("%1000s", "");
		for (i = 0; i < n; i++) {
			sub_ = sprintf("%s/src/d%02d", d, i % 100);
			if (i < 100) system("mkdir -p " sub_);
			f = sprintf("%s/f%05d.txt", sub_, i);
			print i pad > f; close(f);
		}
	}'
	printf 'FROM %s\nCOPY . /ctx/\nRUN find /ctx -type f | wc -l\n' "$HUSHBUILD_TESTBASE_IMAGE" >"$dir/Dockerfile"
}

# build FRONTEND DIR [FILE]: one build, wall seconds on stdout; the
# listing step's seconds appended to FILE.
build() {
	local fe=$1 dir=$2 out=${3:-/dev/null} t0 t1
	t0=$(date +%s.%N)
	"$HUSHBUILD_LAB_BIN/buildctl" build --progress plain --frontend gateway.v0 --opt "source=$fe" \
		--local "context=$dir" --local "dockerfile=$dir" --no-cache \
		>"$work/log" 2>&1 || { cat "$work/log" >&2; exit 1; }
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
	# The listing's own step, as the progress reports it.
	awk '/list the credential files of the build context/ { split($1, n, "#"); step = n[2] }
		step != "" && $1 == "#" step && $2 == "DONE" { sub(/s$/, "", $3); print $3 }' "$work/log" >>"$out"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/stock" ; : >"$work/hush" ; : >"$work/small" ; : >"$work/listing"
for r in $(seq "$rounds"); do
	make_context "$work/big-s$r" "$files"
	make_context "$work/big-h$r" "$files"
	make_context "$work/small$r" 10
	build "$stock" "$work/big-s$r" >>"$work/stock"
	build "$hush" "$work/big-h$r" "$work/listing" >>"$work/hush"
	build "$hush" "$work/small$r" >>"$work/small"
	rm -rf "$work/big-s$r" "$work/big-h$r" "$work/small$r"
done
s=$(median <"$work/stock"); h=$(median <"$work/hush"); m=$(median <"$work/small"); ls_=$(median <"$work/listing")
echo "context of $files files, median of $rounds builds (--no-cache, fresh context each):"
echo "  stock frontend (no listing):          ${s}s"
echo "  hushbuild (listing, rewrite, proof):  ${h}s"
echo "  hushbuild, context of 10 files:       ${m}s"
echo "  of which the listing step (large):    ${ls_}s"
awk -v s="$s" -v h="$h" 'BEGIN { printf "  hushbuild - stock on the large context: %+.2fs (%.2fx)\n", h - s, h / s }'
