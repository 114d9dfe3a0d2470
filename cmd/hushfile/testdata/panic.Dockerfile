FROM alpine:3.20
# hushfile-test: panic
