#!/bin/sh
# Refuses a PKCS #1 key: convert it with openssl pkcs8 first.
case "$(head -n 1 "$1")" in
"-----BEGIN RSA PRIVATE KEY-----") echo "convert the key to PKCS #8" >&2; exit 1 ;;
esac
