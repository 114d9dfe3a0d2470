#!/bin/sh
test -n "$NPM_TOKEN"
