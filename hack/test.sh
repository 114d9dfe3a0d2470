#!/usr/bin/env bash
# Runs every test of the project, the end-to-end suite on a real BuildKit
# included: the suite brings up the local lab itself (hack/lab.sh up).
#
#   hack/test.sh            all tests
#   hack/test.sh -short     unit tests only (skips the lab)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared/corpus ]; then
	echo "hack/test.sh: ../shared (seeds and corpus) must sit beside the repository" >&2
	exit 2
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.lab/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test"
go test -count=1 -timeout 40m "$@" ./...
