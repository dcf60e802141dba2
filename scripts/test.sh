#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, the clients the
# interop tests drive (installed from Debian when missing), then every
# test with the race detector. Extra arguments go to `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
go vet ./...
if [ -x scripts/install-test-deps.sh ]; then
  scripts/install-test-deps.sh
  # The dependencies are installed now: a test that would skip without
  # one (the console's headless Chromium) must run.
  export TERN_REQUIRE_BROWSER=1
fi
go test -race -timeout 15m -count=1 "$@" ./...
