#!/bin/sh
# Stand-in for a package restore that reads feed credentials from
# VSS_NUGET_EXTERNAL_FEED_ENDPOINTS, as the Azure Artifacts credential provider does.
set -eu
password=$(printf '%s' "$VSS_NUGET_EXTERNAL_FEED_ENDPOINTS" | sed -n 's/.*"password":"\([^"]*\)".*/\1/p')
curl -fsS -u "build:${password}" -o /tmp/index.json \
  https://pkgs.dev.azure.com/acme/_packaging/acme-feed/nuget/v3/index.json
