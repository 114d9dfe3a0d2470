#!/usr/bin/env bash
# hack/demo.sh: the README's main command.
#
# Starts the local BuildKit lab (hack/lab.sh up, idempotent), then builds
# the seed private-PyPI example (examples/015-seed004-build-arg-defaults)
# twice with a fresh random password:
#   1. the legacy way: the stock Dockerfile frontend, --build-arg PYPI_PASS;
#   2. with one line added, "# syntax=<hushbuild frontend>", and --secret.
# For each it shows whether pip received the password (by hash) and where
# `hushbuild verify` finds it in the OCI archive. The password is never
# printed.
#
#   hack/demo.sh            run the demo
#   KEEP=1 hack/demo.sh     keep the work directory (archives, logs)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
EXAMPLE=examples/015-seed004-build-arg-defaults
BASE_IMAGE=python:3.9-alpine # the example's FROM, mapped to the lab's test image

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

bold "== starting the lab (hack/lab.sh up)"
lab_log=$(mktemp)
if ! hack/lab.sh up >"$lab_log" 2>&1; then
	tail -n 30 "$lab_log" >&2
	rm -f "$lab_log"
	die "hack/lab.sh up failed"
fi
tail -n 1 "$lab_log"
rm -f "$lab_log"
eval "$(hack/lab.sh env)"

work=$(mktemp -d)
cleanup() {
	if [ "${KEEP:-}" = 1 ]; then
		say "work directory kept: $work (its build logs hold the password)"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
go build -o "$work/bin/hushbuild" ./cmd/hushbuild
hushbuild() { "$work/bin/hushbuild" "$@"; }

# A fresh password for this run. It goes to the builds through the
# environment and the command line, never to the terminal.
PYPI_PASS=hfdemo_$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
export PYPI_PASS
pass_hash=$(printf %s "$PYPI_PASS" | sha256sum | cut -d' ' -f1)
redact() { sed "s/$PYPI_PASS/<PYPI_PASS>/g"; }

# build NAME DOCKERFILE FLAGS...: build the example with DOCKERFILE into
# $work/NAME.tar, with a provenance attestation in mode=max.
build() {
	local name=$1 dockerfile=$2
	shift 2
	mkdir -p "$work/$name"
	cp -R "$EXAMPLE"/. "$work/$name/"
	cp "$dockerfile" "$work/$name/Dockerfile"
	if ! docker buildx build --progress=plain --no-cache \
		--build-context "$BASE_IMAGE=docker-image://$HUSHBUILD_TESTBASE_IMAGE" \
		--attest type=provenance,mode=max --output "type=oci,dest=$work/$name.tar" \
		"$@" "$work/$name" >"$work/$name.log" 2>&1; then
		redact <"$work/$name.log" | tail -n 30 >&2
		die "the $name build failed"
	fi
}

# pip_saw NAME: whether the pip stand-in of the test image received the
# password (it prints the sha256 of the credential it would send).
pip_saw() {
	if grep -q "hushbuild-probe pip .* sha256=$pass_hash" "$work/$1.log"; then
		say "   pip received the password: yes (the test image's pip printed its sha256)"
	else
		say "   pip received the password: NO"
		return 1
	fi
}

# verify NAME: where hushbuild verify finds the password in NAME.tar.
verify() {
	local rc=0
	say "   \$ hushbuild verify --secret id=PYPI_PASS $1.tar"
	hushbuild verify -patterns=false --secret id=PYPI_PASS "$work/$1.tar" >"$work/$1.verify" 2>&1 || rc=$?
	redact <"$work/$1.verify" | sed "s#$work/##g; s/^/     /"
	return $rc
}

say
bold "== examples/015: seed 004's private PyPI, ARG PYPI_PASS in a pip URL"
say "   the password: a fresh random value, never printed (sha256 ${pass_hash:0:16}…)"

say
bold "== 1. the legacy way: stock frontend, --build-arg PYPI_PASS"
{
	echo "# syntax=$HUSHBUILD_STOCK_FRONTEND_IMAGE"
	cat "$EXAMPLE/Dockerfile"
} >"$work/Dockerfile.legacy"
say "   \$ docker buildx build --build-arg PYPI_PASS=<PYPI_PASS> --build-arg PYPI_USER=ci --build-arg PYPI_URL=pypi.example.com ."
build legacy "$work/Dockerfile.legacy" --build-arg "PYPI_PASS=$PYPI_PASS" --build-arg PYPI_USER=ci --build-arg PYPI_URL=pypi.example.com
pip_saw legacy
legacy_rc=0
verify legacy || legacy_rc=$?
[ "$legacy_rc" = 1 ] || die "hushbuild verify did not find the password in the legacy image (exit $legacy_rc)"

say
bold "== 2. hushbuild: one line added, # syntax=$HUSHBUILD_FRONTEND_IMAGE"
{
	echo "# syntax=$HUSHBUILD_FRONTEND_IMAGE"
	cat "$EXAMPLE/Dockerfile"
} >"$work/Dockerfile.hushbuild"
mapfile -t flags < <(hushbuild secrets "$work/Dockerfile.hushbuild")
say "   \$ hushbuild secrets Dockerfile"
printf '     %s\n' "${flags[@]}"
say "   \$ docker buildx build ${flags[*]} --build-arg PYPI_USER=ci --build-arg PYPI_URL=pypi.example.com ."
split=()
for f in "${flags[@]}"; do
	read -r -a words <<<"$f"
	split+=("${words[@]}")
done
build hushbuild "$work/Dockerfile.hushbuild" "${split[@]}" --build-arg PYPI_USER=ci --build-arg PYPI_URL=pypi.example.com
say "   what the frontend built instead of the original lines (hushbuild rewrite --diff):"
hushbuild rewrite --diff "$EXAMPLE/Dockerfile" 2>/dev/null | grep -E '^[-+]([^-+]|$)' | sed 's/^/     /' || true
grep -o ' WARN: .*' "$work/hushbuild.log" | awk '!seen[$0]++' | redact | sed 's/^ WARN: /   frontend warning: /' || true
if grep -qF "$PYPI_PASS" "$work/hushbuild.log"; then
	die "the hushbuild build printed the password"
fi
pip_saw hushbuild
hushbuild_rc=0
verify hushbuild || hushbuild_rc=$?
[ "$hushbuild_rc" = 0 ] || die "hushbuild verify found the password in the hushbuild image (exit $hushbuild_rc)"

say
legacy_hits=$(grep -c '^FOUND' "$work/legacy.verify" || true)
bold "== result: the legacy image holds the password in $legacy_hits place(s); the hushbuild image in none, and pip still got it."
