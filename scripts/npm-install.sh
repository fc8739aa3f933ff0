#!/usr/bin/env sh
# Install node_modules exactly as package-lock.json says.
#   scripts/npm-install.sh [npm flags, e.g. --omit=dev]
# `npm ci` first. Newer npm refuses a lock that lacks entries for a package's optional
# platform binaries (@swc/core-darwin-*, -win32-*: npm/cli#4828), and a lock written where
# the registry serves only Linux binaries always lacks them. For that refusal only, install
# with `npm install` from the same lock and accept the result only if every locked package
# came out identical (npm may add optional entries, nothing else). The lock file itself is
# always put back as it was, mtime included.
# POSIX sh: also runs in the node:20-slim image build (Dockerfile).
set -eu
cd "$(dirname "$0")/.."

log=$(mktemp)
saved=$(mktemp)
trap 'rm -f "$log" "$saved"' EXIT
if npm ci --no-audit --no-fund --loglevel=error "$@" >"$log" 2>&1; then
  echo "npm ci"
  exit 0
fi
if ! grep -q 'can only install packages when your package.json and package-lock.json' "$log"; then
  cat "$log" >&2
  exit 1
fi
cp -p package-lock.json "$saved"
restore() { cp -p "$saved" package-lock.json; }
if ! npm install --no-audit --no-fund --loglevel=error "$@" >"$log" 2>&1; then
  restore
  cat "$log" >&2
  exit 1
fi
if ! node -e '
  const fs = require("fs");
  const before = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).packages || {};
  const after = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).packages || {};
  const changed = Object.keys(before).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  const added = Object.keys(after).filter((k) => !(k in before) && !after[k].optional);
  for (const k of [...changed, ...added]) console.error("  " + k);
  process.exit(changed.length + added.length ? 1 : 0);
' "$saved" package-lock.json; then
  restore
  echo "npm ci refused package-lock.json and npm install resolved the packages above differently: the lock is out of date (run npm install, commit the lock)" >&2
  exit 1
fi
restore
echo "npm install from package-lock.json (npm ci refused the lock for missing optional platform packages)"
