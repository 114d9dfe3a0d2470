FROM python:3.12-slim
ARG NPM_TOKEN
ENV DATABASE_PASSWORD=placeholder-not-a-secret
RUN npm ci
