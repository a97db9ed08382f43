#!/usr/bin/env bash
# Runs every test of the project: the core module and the nested GoMLX module.
set -euo pipefail
cd "$(dirname "$0")/.."
go vet ./...
go test -count=1 ./...
# The assembly loops must stay bit-identical to their Go twins also where the compiler may fuse
# multiply-adds (GOAMD64=v3), and the pure-Go build must pass on its own.
if [ "$(go env GOARCH)" = amd64 ] && grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
  GOAMD64=v3 go test -count=1 -run 'Lanes|Portable|GOMAXPROCS' .
fi
go test -count=1 -tags purego . ./gemm ./nn ./models/...
if [ -f gomlx/go.mod ]; then
  (cd gomlx && go vet ./... && GOMLX_BACKEND=go go test -count=1 ./...)
fi
