#!/usr/bin/env bash
# Prints a table: hushbuild verify's scan throughput (known values and all
# pattern rules on) next to the cost of only decompressing and walking the
# same layers, for gzip, zstd and uncompressed layers.
#
#   hack/bench-verify.sh [SIZE_MB]     (default 1024: a 1 GiB image)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
printf '%-6s %12s %12s %10s %10s\n' layers "scan MB/s" "limit MB/s" "% limit" "% cpu"
for comp in gzip zstd none; do
	go test ./verify -run '^$' -bench ScanVsLimit -benchtime 3x \
		-verify.benchsize "$size" -verify.benchcomp "$comp" |
		awk -v comp="$comp" '/^BenchmarkScanVsLimit/ {
			for (i = 1; i <= NF; i++) {
				if ($i == "%-of-limit") pct = $(i-1)
				if ($i == "%-of-limit-cpu") cpu = $(i-1)
				if ($i == "limit-MB/s") lim = $(i-1)
				if ($i == "scan-MB/s") scan = $(i-1)
			}
			printf "%-6s %12s %12s %9s%% %9s%%\n", comp, scan, lim, pct, cpu
		}'
done
