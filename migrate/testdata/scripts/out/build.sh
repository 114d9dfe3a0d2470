#!/bin/sh
# Build the app image.
set -eu
docker build \
  --build-arg NODE_ENV=production \
  --secret id=NPM_TOKEN,env=NPM_TOKEN \
  --secret id=UPSTREAM,env=GH_PAT \
  -t example/app app
if [ -n "${CI:-}" ]; then
  docker buildx build --build-arg NPM_TOKEN="$(cat ~/.npmrc-token)" app
fi
echo "done"
