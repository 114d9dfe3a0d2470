# syntax=docker/dockerfile:1
FROM alpine
ARG UPSTREAM
ENV GITHUB_TOKEN=$UPSTREAM
ARG NPM_TOKEN
ARG NODE_ENV=production
RUN echo $NPM_TOKEN $GITHUB_TOKEN > /dev/null
