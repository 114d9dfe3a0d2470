# syntax=ghcr.io/hushbuild/frontend:1
FROM alpine
# hushbuild: ARG UPSTREAM is a secret mount now
# hushbuild: ENV GITHUB_TOKEN is a secret mount now
# hushbuild: ARG NPM_TOKEN is a secret mount now
ARG NODE_ENV=production
RUN --mount=type=secret,id=UPSTREAM,env=UPSTREAM,required=true --mount=type=secret,id=UPSTREAM,env=GITHUB_TOKEN,required=true --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN,required=true echo $NPM_TOKEN $GITHUB_TOKEN > /dev/null
