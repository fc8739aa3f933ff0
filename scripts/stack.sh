#!/usr/bin/env bash
# Start, stop or show dockmedic's embedded stack: the Docker engine, Redis and the Temporal
# dev server, each on this machine (loopback only).
#   scripts/stack.sh start [docker|redis|temporal]...   start what does not answer (default: all)
#   scripts/stack.sh stop  [temporal|redis|docker]...   stop what this script started (pid files)
#   scripts/stack.sh status
# A component that already answers is used as it is, whoever started it; `stop` only ends
# processes whose pid file this script wrote. Started processes run in their own session
# (setsid + nohup) and outlive the script; logs and pid files live under the state directory.
set -euo pipefail

STATE=${DOCKMEDIC_STATE_DIR:-/var/lib/dockmedic}
TOOLS=${DOCKMEDIC_TOOLS_DIR:-/opt/dockmedic/tools}
TEMPORAL=$TOOLS/venv/bin/temporal
RUN=$STATE/run
LOG=$STATE/log

# Fixed, because tests and the default configuration expect them there (docs/architecture.md §8).
REDIS_HOST=127.0.0.1 REDIS_PORT=6379
TEMPORAL_HOST=127.0.0.1 TEMPORAL_PORT=7233 TEMPORAL_UI_PORT=8233
TEMPORAL_ADDRESS=$TEMPORAL_HOST:$TEMPORAL_PORT
# Keyword search attributes the incident workflow sets (docs/architecture.md §3).
SEARCH_ATTRIBUTES=(DockmedicContainer DockmedicHost DockmedicFailure DockmedicDecision DockmedicOutcome DockmedicDrill)
DOCKERD_FLAGS=(--iptables=false --ip-masq=false --bridge=none --storage-driver=vfs)

status() { printf '%-9s %s\n' "$1" "$2"; }
fail() { printf 'stack: %s\n' "$*" >&2; exit 1; }

# wait_for SECONDS CHECK...: poll CHECK every 0.25 s until it succeeds or time runs out.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# spawn NAME CMD...: start CMD detached from this shell and its terminal; record its pid.
spawn() {
  local name=$1; shift
  mkdir -p "$RUN" "$LOG"
  # One generation kept: a long-lived engine's log would otherwise grow without bound across starts.
  if (($(stat -c %s "$LOG/$name.log" 2>/dev/null || echo 0) > 50 * 1024 * 1024)); then mv -f "$LOG/$name.log" "$LOG/$name.log.1"; fi
  printf '\n--- %s starting %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOG/$name.log"
  # Close the lock descriptors (8: setup.sh, 9: this script): a long-lived child holding
  # them would keep every later start waiting on the lock.
  setsid nohup "$@" >>"$LOG/$name.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$RUN/$name.pid"
}

show_log() { tail -n 20 "$LOG/$1.log" >&2 || true; }

# is_process PID EXE: PID is alive and runs EXE (its executable, not a name prefix: a
# recycled pid running `temporal-test-server` must not pass for `temporal`).
is_process() {
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  local exe
  exe=$(readlink -f "/proc/$1/exe" 2>/dev/null) || return 1
  [[ $exe == "$(readlink -f "$2" 2>/dev/null)" ]]
}

# started_alive NAME EXE: the process recorded in RUN/NAME.pid is alive and runs EXE
# (an earlier start of ours that is still coming up: wait for it rather than spawn another).
started_alive() {
  local pid
  pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
  is_process "$pid" "$2"
}

# wait_started NAME SECONDS CHECK...: wait for CHECK like wait_for, but give up at once, with
# the log, when the process we spawned has exited (a port already taken, bad flags). Only
# liveness is checked: right after the spawn the process may not have exec'd its binary yet.
wait_started() {
  local name=$1 deadline=$((SECONDS + $2)) pid
  shift 2
  pid=$(cat "$RUN/$name.pid" 2>/dev/null) || fail "no pid file for $name"
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$RUN/$name.pid"
      show_log "$name"
      fail "$name exited during start-up (log: $LOG/$name.log)"
    fi
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

# --- Docker ---------------------------------------------------------------------------
docker_up() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start_docker() {
  if docker_up; then
    status docker "ok (engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers)"
    return
  fi
  command -v dockerd >/dev/null || fail "dockerd is not installed: run scripts/setup.sh (apt-get install docker.io)"
  command -v docker >/dev/null || fail "the docker client is not installed: run scripts/setup.sh (apt-get install docker.io)"
  local exe
  exe=$(command -v dockerd)
  started_alive dockerd "$exe" || spawn dockerd "$exe" "${DOCKERD_FLAGS[@]}"
  if ! wait_started dockerd 30 docker_up; then
    show_log dockerd
    fail "dockerd did not answer within 30 s (log: $LOG/dockerd.log)"
  fi
  status docker "started dockerd ${DOCKERD_FLAGS[*]} (pid $(<"$RUN/dockerd.pid"))"
}

# --- Redis ----------------------------------------------------------------------------
redis_up() { [[ $(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }

start_redis() {
  if redis_up; then
    local aof
    aof=$(timeout 5 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" config get appendonly 2>/dev/null | tail -n 1) || true
    if [[ $aof == yes ]]; then
      status redis "ok ($REDIS_HOST:$REDIS_PORT answers)"
    else
      status redis "ok ($REDIS_HOST:$REDIS_PORT answers) — WARNING: started elsewhere without appendonly; nonces will not survive its restart"
    fi
    return
  fi
  command -v redis-server >/dev/null || fail "redis-server is not installed: run scripts/setup.sh (apt-get install redis-server)"
  mkdir -p "$RUN" "$LOG" "$STATE/redis"
  # Append-only file, no snapshots: nonces must survive a Redis restart, or a captured
  # request could be replayed within its timestamp window right after one.
  if ! redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" \
    --dir "$STATE/redis" --save '' --appendonly yes --appendfsync everysec 8>&- 9>&-; then
    show_log redis
    fail "redis-server did not start (log: $LOG/redis.log)"
  fi
  if ! wait_for 15 redis_up; then
    show_log redis
    fail "Redis did not answer on $REDIS_HOST:$REDIS_PORT within 15 s (log: $LOG/redis.log)"
  fi
  status redis "started redis-server on $REDIS_HOST:$REDIS_PORT (pid $(<"$RUN/redis.pid"))"
}

# --- Temporal -------------------------------------------------------------------------
temporal_up() { [[ $(timeout 10 "$TEMPORAL" operator cluster health --address "$TEMPORAL_ADDRESS" 2>/dev/null) == *SERVING* ]]; }

# Names of the registered search attributes that are missing, one per line.
missing_search_attributes() {
  local listed name
  listed=$(timeout 20 "$TEMPORAL" operator search-attribute list --address "$TEMPORAL_ADDRESS") ||
    fail "cannot list search attributes on $TEMPORAL_ADDRESS"
  for name in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -Eq "(^|[[:space:]])${name}[[:space:]]+Keyword([[:space:]]|$)" <<<"$listed" || echo "$name"
  done
}

# An existing database, or a server someone else started, may lack them: register what is missing.
ensure_search_attributes() {
  local missing=() name out
  # Not `mapfile < <(…)`: a failure inside a process substitution would go unnoticed.
  out=$(missing_search_attributes) || exit 1
  [[ -z $out ]] || mapfile -t missing <<<"$out"
  ((${#missing[@]})) || return 0
  # One per call: CLI 1.9.1 given several --name flags registers only the first.
  for name in "${missing[@]}"; do
    timeout 30 "$TEMPORAL" operator search-attribute create --address "$TEMPORAL_ADDRESS" --name "$name" --type Keyword >/dev/null ||
      fail "could not register search attribute $name"
  done
  out=$(missing_search_attributes) || exit 1
  [[ -z $out ]] || fail "search attributes still missing after registering: ${out//$'\n'/ }"
  echo "registered ${missing[*]}"
}

start_temporal() {
  [[ -x $TEMPORAL ]] || fail "the Temporal CLI is not installed at $TEMPORAL: run scripts/setup.sh"
  local how
  if temporal_up; then
    how="ok ($TEMPORAL_ADDRESS serving)"
  else
    mkdir -p "$STATE/temporal"
    # WAL + synchronous=normal and one task-queue partition: latency settings, docs/architecture.md §8.
    local args=(server start-dev --ip "$TEMPORAL_HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
      --db-filename "$STATE/temporal/dev.db" --log-level warn
      --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal
      --dynamic-config-value matching.numTaskqueueReadPartitions=1 --dynamic-config-value matching.numTaskqueueWritePartitions=1)
    local name
    for name in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$name=Keyword"); done
    started_alive temporal "$TEMPORAL" || spawn temporal "$TEMPORAL" "${args[@]}"
    if ! wait_started temporal 60 temporal_up; then
      show_log temporal
      fail "the Temporal dev server did not become healthy within 60 s (log: $LOG/temporal.log)"
    fi
    how="started dev server on $TEMPORAL_ADDRESS, UI http://$TEMPORAL_HOST:$TEMPORAL_UI_PORT (pid $(<"$RUN/temporal.pid"))"
  fi
  local registered
  registered=$(ensure_search_attributes)
  status temporal "$how; search attributes ${registered:-present}"
}

# --- stop -----------------------------------------------------------------------------
# stop_by_pidfile NAME EXE: end the process recorded in RUN/NAME.pid if it still runs EXE.
stop_by_pidfile() {
  local name=$1 exe=$2 file=$RUN/$1.pid pid
  if [[ ! -f $file ]]; then
    status "$name" "not started by stack.sh (no $file); left alone"
    return
  fi
  pid=$(<"$file")
  # A recycled pid would belong to someone else: check the executable before signalling.
  if ! is_process "$pid" "$exe"; then
    rm -f "$file"
    status "$name" "not running (stale pid file removed)"
    return
  fi
  kill -TERM "$pid"
  if ! wait_for 30 eval "! kill -0 $pid 2>/dev/null"; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
  status "$name" "stopped (pid $pid)"
}

stop_component() {
  case $1 in
    temporal) stop_by_pidfile temporal "$TEMPORAL" ;;
    redis) stop_by_pidfile redis "$(command -v redis-server || echo /usr/bin/redis-server)" ;;
    docker) stop_by_pidfile dockerd "$(command -v dockerd || echo /usr/sbin/dockerd)" ;;
    *) fail "unknown component '$1' (docker, redis, temporal)" ;;
  esac
}

show_status() {
  local rc=0
  if docker_up; then status docker up; else status docker down; rc=1; fi
  if redis_up; then status redis "up ($REDIS_HOST:$REDIS_PORT)"; else status redis down; rc=1; fi
  if [[ -x $TEMPORAL ]] && temporal_up; then
    status temporal "up ($TEMPORAL_ADDRESS, UI http://$TEMPORAL_HOST:$TEMPORAL_UI_PORT)"
  else
    status temporal down; rc=1
  fi
  return $rc
}

main() {
  local cmd=${1:-start}
  (($# == 0)) || shift
  case $cmd in
    start)
      (($#)) || set -- docker redis temporal
      # Two starts at once would race to spawn the same server: take turns.
      mkdir -p "$STATE"
      exec 9>"$STATE/.stack.lock"
      flock -w 300 9 || fail "another stack.sh start has held $STATE/.stack.lock for 5 minutes"
      local c
      for c in "$@"; do
        case $c in
          docker) start_docker ;;
          redis) start_redis ;;
          temporal) start_temporal ;;
          *) fail "unknown component '$c' (docker, redis, temporal)" ;;
        esac
      done
      ;;
    stop)
      (($#)) || set -- temporal redis docker
      local c
      for c in "$@"; do stop_component "$c"; done
      ;;
    status) show_status ;;
    *) fail "usage: $0 start|stop|status [docker|redis|temporal]..." ;;
  esac
}

main "$@"
