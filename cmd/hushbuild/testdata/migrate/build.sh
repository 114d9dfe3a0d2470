#!/bin/sh
docker buildx build --build-arg VERSION=1.0 --build-arg NPM_TOKEN="$NPM_TOKEN" app
