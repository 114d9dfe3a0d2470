FROM alpine:3.20
# hushbuild-test: panic
