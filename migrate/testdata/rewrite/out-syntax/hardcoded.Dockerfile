# syntax=ghcr.io/hushbuild/frontend:1
FROM alpine
ENV DATABASE_PASSWORD=hunter2
