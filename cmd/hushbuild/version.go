package main

// Set at link time by release builds (.goreleaser.yaml):
//
//	-ldflags "-X main.Version=v1.2.3 -X main.Revision=<commit>"
//
// A build without them (go install, go build in a checkout) reports the
// module version and the VCS revision the Go toolchain records.
var (
	Version  = ""
	Revision = ""
)
