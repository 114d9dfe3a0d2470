#!/bin/sh
# Installs dependencies from the private registry. NPM_TOKEN comes from the
# environment (a build-arg in the legacy Dockerfile).
set -eu
printf '//registry.npmjs.org/:_authToken=%s\n' "$NPM_TOKEN" > /tmp/npmrc
NPM_CONFIG_USERCONFIG=/tmp/npmrc npm ci
rm -f /tmp/npmrc
