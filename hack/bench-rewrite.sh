#!/usr/bin/env bash
# Prints a table: the whole rewrite next to BuildKit's parser alone
# (parser.Parse + instructions.Parse), on a typical Dockerfile and on a
# generated 5,000-instruction one: the medians over -count runs of
# BenchmarkRewrite, which alternates the two. The ratio by CPU time is the
# steadier on a loaded machine; the wall-time one needs a quiet machine.
#
#   hack/bench-rewrite.sh [-count N]
set -euo pipefail
cd "$(dirname "$0")/.."
count=5
[ "${1:-}" = "-count" ] && count=$2
if ! out=$(go test ./rewrite -run '^$' -bench 'BenchmarkRewrite$' -benchtime 1s -count "$count" 2>&1); then
	echo "$out" >&2
	exit 1
fi
echo "$out" | awk '
/^BenchmarkRewrite\// {
	split($1, p, "/"); input = p[2]; sub(/-[0-9]+$/, "", input)
	k = n[input]++
	for (i = 5; i < NF; i += 2) v[input, $(i + 1), k] = $i
}
function median(input, unit,    a, m, i, j, t) {
	m = n[input]
	for (i = 0; i < m; i++) a[i] = v[input, unit, i] + 0
	for (i = 1; i < m; i++)
		for (j = i; j > 0 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return m % 2 ? a[(m - 1) / 2] : (a[m / 2 - 1] + a[m / 2]) / 2
}
END {
	printf "%-10s %12s %14s %8s %11s\n", "input", "parse (ms)", "rewrite (ms)", "ratio", "ratio (CPU)"
	split("typical 5000", inputs, " ")
	for (i = 1; i <= 2; i++) {
		inp = inputs[i]
		printf "%-10s %12.3f %14.3f %7.2fx %10.2fx\n", inp, median(inp, "parse-ms"), median(inp, "rewrite-ms"), median(inp, "ratio"), median(inp, "ratio-cpu")
	}
}'
