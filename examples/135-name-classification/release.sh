#!/bin/sh
# Reads its credentials from the environment; never prints them.
set -eu
: "${AWS_ACCESS_KEY_ID:?}" "${AWS_SECRET_ACCESS_KEY:?}" "${DATABASE_URL:?}"
curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" \
  -H "X-Session-Token: ${AWS_SESSION_TOKEN:-}" -o /tmp/release.json https://releases-example.s3.amazonaws.com/release.json
curl -fsS -H "X-Db: ${DATABASE_URL}" -H "X-Db-Pwd: ${DB_PWD:-}" -X POST https://db-admin.example.com/migrate
curl -fsS -H "X-Sentry-Dsn: ${SENTRY_DSN:-}" -H "X-Client-Secret: ${clientSecret:-}" -X POST "https://sentry.example.com/api/releases/${APP_VERSION}/?by=${DEPLOY_USER}"
echo "${SIGNING_PRIVATE_KEY:-}" | sha256sum > /tmp/signing-key.sha256
