#!/bin/sh
# A stand-in application for the clean multi-stage build.
case ${1:-} in
--self-test) echo "app: self-test ok" ;;
*) echo "app: running in ${APP_MODE:-development} mode" ;;
esac
