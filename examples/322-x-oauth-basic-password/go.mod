module github.com/acme/server

go 1.22

require github.com/acme/private-lib v1.4.0
