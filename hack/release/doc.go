// Package release holds the checks of the release configuration that
// hack/test.sh runs, so a broken release is found before a tag:
//
//   - the GitHub Actions workflows (.github/workflows) pass actionlint, built
//     from its own module hack/tools/actionlint;
//   - .goreleaser.yaml is a valid GoReleaser configuration, read by
//     GoReleaser's own configuration code (hack/tools/goreleaser);
//   - its ldflags set variables that cmd/hushbuild declares, and
//     `hushbuild version` prints what they set;
//   - cmd/hushbuild builds for every GOOS/GOARCH of its matrix, with its
//     flags and ldflags.
//
// The frontend image's multi-platform build is checked on the lab by the
// end-to-end suite (e2e: TestReleaseImageMultiPlatform).
package release
