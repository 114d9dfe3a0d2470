package main

// Set at link time: -ldflags "-X main.Version=... -X main.Revision=...".
var (
	Package  = "github.com/hushfile/hushfile/cmd/hushfile-frontend"
	Version  = "0.0.0+unknown"
	Revision = ""
)
