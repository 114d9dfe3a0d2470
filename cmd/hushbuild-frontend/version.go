package main

// Set at link time: -ldflags "-X main.Version=... -X main.Revision=...".
var (
	Package  = "github.com/hushbuild/hushbuild/cmd/hushbuild-frontend"
	Version  = "0.0.0+unknown"
	Revision = ""
)
