#!/usr/bin/env bash
# Runs every test of the project: the core module and the nested GoMLX module.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
go test -count=1 ./...
if [ -f gomlx/go.mod ]; then
  (cd gomlx && go vet ./... && GOMLX_BACKEND=go go test -count=1 ./...)
fi
