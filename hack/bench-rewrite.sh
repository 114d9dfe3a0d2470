#!/usr/bin/env bash
# Prints a table: the whole rewrite next to BuildKit's parser alone
# (parser.Parse + instructions.Parse), on a typical Dockerfile and on a
# generated 5,000-instruction one. Run it on a quiet machine.
#
#   hack/bench-rewrite.sh [-count N]
set -euo pipefail
cd "$(dirname "$0")/.."
count=5
[ "${1:-}" = "-count" ] && count=$2
if ! out=$(go test ./rewrite -run '^$' -bench 'BenchmarkRewrite$' -benchtime 20x -count "$count" 2>&1); then
	echo "$out" >&2
	exit 1
fi
echo "$out" | awk '
/^BenchmarkRewrite\// {
	split($1, p, "/"); kind = p[2]; input = p[3]; sub(/-[0-9]+$/, "", input)
	ns[kind "/" input] += $3; n[kind "/" input]++
}
END {
	printf "%-10s %14s %14s %8s\n", "input", "parse (ms)", "rewrite (ms)", "ratio"
	split("typical 5000", inputs, " ")
	for (i = 1; i <= 2; i++) {
		inp = inputs[i]
		pa = ns["parse/" inp] / n["parse/" inp] / 1e6
		rw = ns["rewrite/" inp] / n["rewrite/" inp] / 1e6
		printf "%-10s %14.3f %14.3f %7.2fx\n", inp, pa, rw, rw / pa
	}
}'
