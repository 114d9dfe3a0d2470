#!/usr/bin/env bash
# Runs every test of the project, the end-to-end suite on a real BuildKit
# included: the suite brings up the local lab itself (hack/lab.sh up), and
# the daemon matrix the older buildkitd versions (hack/lab.sh daemons: the
# first run compiles each of them: 3 to 11 minutes each on a busy 2-core
# machine, see docs/daemons.md).
#
#   hack/test.sh            all tests
#   hack/test.sh -short     unit tests only (skips the lab)
#
# ../shared (seeds and the corpus of real Dockerfiles) sits beside the
# repository on CI. In a plain clone without it everything else runs and
# the tests that read the corpus skip, saying that ../shared is absent;
# with CI set, a missing ../shared fails at once instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d ../shared ]; then
	if [ -n "${CI:-}" ]; then
		echo "hack/test.sh: ../shared is absent, and CI always has it beside the repository (CI is set): failing instead of skipping its tests" >&2
		exit 2
	fi
	echo "hack/test.sh: ../shared is absent: the tests over its corpus will skip (with CI set they would fail)" >&2
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

# The checker's tests make bzip2 archives with bzip2(1), the diff tests
# run patch(1), the keystore tests openssl(1) and keytool(1); the lab's
# other Debian packages come with them (the e2e suite brings the lab up
# itself).
if ! command -v bzip2 >/dev/null || ! command -v patch >/dev/null || ! command -v openssl >/dev/null || ! command -v keytool >/dev/null; then
	echo "== lab deps"
	hack/lab.sh deps
fi

echo "== go test"
go test -count=1 -timeout 75m "$@" ./...
