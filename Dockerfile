# Builds the hushbuild frontend image: the image a Dockerfile names in its
# `# syntax=` line.
#
#   docker buildx build -t hushbuild/frontend \
#     --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg REVISION=$(git rev-parse HEAD) .
#
# Where Docker Hub cannot be reached, point the builder stage at a Go image
# of your own: --build-context golang:1.26-alpine=docker-image://REGISTRY/golang

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
ARG TARGETOS
ARG TARGETARCH
ARG TARGETVARIANT
ARG VERSION=0.0.0+unknown
ARG REVISION=
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=cache,target=/go/pkg/mod \
    GOOS=$TARGETOS GOARCH=$TARGETARCH GOARM=${TARGETVARIANT#v} \
    go build -o /out/hushbuild-frontend \
      -tags "netgo osusergo static_build" \
      -ldflags "-s -w -X main.Version=${VERSION} -X main.Revision=${REVISION}" \
      ./cmd/hushbuild-frontend

FROM scratch AS release
ARG VERSION=0.0.0+unknown
ARG REVISION=
# The capabilities are those of BuildKit's own Dockerfile frontend, whose
# code this frontend runs (frontend/caps.go); without them buildx's
# subrequests (--call) and named contexts (--build-context) are refused.
LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts,moby.buildkit.frontend.gitquerystring,moby.buildkit.frontend.contexts.zstd"
LABEL org.opencontainers.image.title="hushbuild-frontend" \
      org.opencontainers.image.description="BuildKit Dockerfile frontend that keeps build secrets out of images" \
      org.opencontainers.image.source="https://github.com/hushbuild/hushbuild" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/hushbuild-frontend /bin/hushbuild-frontend
ENTRYPOINT ["/bin/hushbuild-frontend"]
