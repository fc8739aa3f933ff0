#!/usr/bin/env bash
# Compile TypeScript to dist/ when a source is newer than the last successful build.
#   scripts/build.sh          build if stale (a no-op run takes milliseconds)
#   scripts/build.sh --force  always run (incremental) tsc
# Compiled files whose source was deleted are removed first: node --test would otherwise
# keep running a test that no longer exists.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SOURCES=(src workflows activities test bench)
OK=dist/.build-ok   # written only after tsc succeeded

prune_orphans() {
  local js src n=0
  [[ -d dist ]] || return 0
  while IFS= read -r -d '' js; do
    src=${js#dist/}
    src=${src%.js}.ts
    if [[ ! -f $src ]]; then
      rm -f "$js" "$js.map"
      n=$((n + 1))
    fi
  done < <(find "${SOURCES[@]/#/dist/}" -name '*.js' -print0 2>/dev/null)
  ((n == 0)) || echo "build     removed $n compiled file(s) whose source is gone"
}

stale() {
  [[ -f $OK ]] || return 0
  # TypeScript files and directories (deleting or renaming a file changes its directory's
  # mtime); not the JSON `make bench` writes under bench/results/.
  [[ -n $(find "${SOURCES[@]}" -path bench/results -prune -o \( -name '*.ts' -o -type d \) -newer "$OK" -print -quit 2>/dev/null) ||
    -n $(find tsconfig.json package-lock.json node_modules/.package-lock.json -newer "$OK" -print -quit 2>/dev/null) ]]
}

# Concurrent builds in one tree (two `make test` at once) would write dist/ together.
mkdir -p dist
exec 9>dist/.build.lock
flock -w 600 9 || { echo "build     another build has held dist/.build.lock for 10 minutes" >&2; exit 1; }

prune_orphans
if [[ ${1:-} != --force ]] && ! stale; then
  echo "build     ok (dist/ is up to date)"
  exit 0
fi
rm -f "$OK"
# Stamped before tsc runs: a source saved during the build is newer than the marker, so the next run compiles it.
touch dist/.build-started
start=$(date +%s%N)
if ! node node_modules/typescript/bin/tsc -p tsconfig.json; then
  echo "build     FAILED: tsc reported errors (above)" >&2
  exit 1
fi
mv dist/.build-started "$OK"
echo "build     compiled with tsc in $((($(date +%s%N) - start) / 1000000)) ms"
