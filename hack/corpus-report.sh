#!/usr/bin/env bash
# Regenerates examples/CORPUS.md: what the rewrite engine, with the default
# configuration, does with every Dockerfile of ../shared/corpus/ (per
# folder: files, findings by rule, files fully rewritten, files needing a
# manual fix, files BuildKit's parser rejects).
#
#   hack/corpus-report.sh         write examples/CORPUS.md
#   hack/corpus-report.sh -o -    print it instead
#
# `go test ./hack/corpus-report` fails while the committed file is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus ]; then
	echo "hack/corpus-report.sh: ../shared/corpus must sit beside the repository" >&2
	exit 2
fi

out=examples/CORPUS.md
if [ "${1:-}" = "-o" ]; then
	out=${2:?-o needs a file, or - for stdout}
fi
if [ "$out" = "-" ]; then
	exec go run ./hack/corpus-report -corpus ../shared/corpus
fi
go run ./hack/corpus-report -corpus ../shared/corpus -o "$out"
echo "wrote $out"
