#!/usr/bin/env bash
# Local Apache Kafka (KRaft) and ClickHouse for development and CI, without docker.
#
#   scripts/services.sh up       install what is missing, start both, wait until they answer
#   scripts/services.sh down     stop what this script started
#   scripts/services.sh status   show what is running
#   scripts/services.sh env      print the KAFKA_BROKERS / CLICKHOUSE_URL exports for a shell
#
# Everything listens on 127.0.0.1 only. Downloads and data live under .cache/ (git-ignored).
# If KAFKA_BROKERS or CLICKHOUSE_URL is already set, that service is taken as given (for example
# from `docker compose up`) and nothing is started for it.
#
# A second, independent pair (the chaos script's, scripts/chaos.mjs) runs beside the usual one
# with its own ports and its own run directory, sharing the downloads:
#   COSTTRACE_RUN_DIR=.cache/chaos-run COSTTRACE_KAFKA_PORT=29092 COSTTRACE_KAFKA_CONTROLLER_PORT=29093 \
#     COSTTRACE_CLICKHOUSE_HTTP_PORT=28123 COSTTRACE_CLICKHOUSE_TCP_PORT=29000 scripts/services.sh up
# `down`, `status` and `env` need the same variables to find that pair.
#
# Environment (all optional):
#   COSTTRACE_CACHE_DIR     downloads (Kafka jars under kafka/) and, by default, run data; default .cache
#   COSTTRACE_RUN_DIR       data, logs and pid files of the started servers (kafka/, clickhouse/);
#                           default $COSTTRACE_CACHE_DIR/run; a relative path is taken from the
#                           current directory
#   COSTTRACE_KAFKA_PORT, COSTTRACE_KAFKA_CONTROLLER_PORT             default 19092, 19093
#   COSTTRACE_CLICKHOUSE_HTTP_PORT, COSTTRACE_CLICKHOUSE_TCP_PORT     default 18123, 19000
#   COSTTRACE_KAFKA_VERSION (4.4.0), COSTTRACE_KAFKA_HEAP (512m), COSTTRACE_READY_TIMEOUT_S (120)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${COSTTRACE_CACHE_DIR:-$ROOT/.cache}"

# Pinned. See docs/deployment.md "Why Kafka 4.4.0" for how this version was chosen against kafkajs 2.2.4.
KAFKA_VERSION="${COSTTRACE_KAFKA_VERSION:-4.4.0}"
KAFKA_PORT="${COSTTRACE_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${COSTTRACE_KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP="${COSTTRACE_KAFKA_HEAP:-512m}"
CLICKHOUSE_HTTP_PORT="${COSTTRACE_CLICKHOUSE_HTTP_PORT:-18123}"
CLICKHOUSE_TCP_PORT="${COSTTRACE_CLICKHOUSE_TCP_PORT:-19000}"
READY_TIMEOUT_S="${COSTTRACE_READY_TIMEOUT_S:-120}"

RUN_DIR="${COSTTRACE_RUN_DIR:-$CACHE/run}"
# Absolute: ClickHouse is started from inside its run directory.
[[ "$RUN_DIR" == /* ]] || RUN_DIR="$PWD/$RUN_DIR"

KAFKA_HOME="$CACHE/kafka/$KAFKA_VERSION"
KAFKA_RUN="$RUN_DIR/kafka"
CH_RUN="$RUN_DIR/clickhouse"

log() { printf '[services] %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

# retry N cmd...: run cmd up to N times with a growing pause, for network-bound steps only.
retry() {
  local n=$1 i=1
  shift
  until "$@"; do
    if ((i >= n)); then return 1; fi
    log "attempt $i of $n failed: $*; retrying in $((i * 5)) s"
    sleep $((i * 5))
    i=$((i + 1))
  done
}

# port_busy PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- Kafka

kafka_install() {
  command -v java >/dev/null || die "java not found: Kafka needs a Java 17+ runtime (Debian package openjdk-17-jre-headless)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
  [[ "${major%%.*}" -ge 17 ]] || die "Java $major found: Kafka $KAFKA_VERSION needs Java 17 or newer"
  if [[ -f "$KAFKA_HOME/lib/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found: Maven is needed once to fetch Kafka $KAFKA_VERSION from Maven Central (Debian package maven)"
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_HOME/lib"
  rm -rf "$KAFKA_HOME/lib"
  mkdir -p "$KAFKA_HOME/lib"
  if ! retry 3 mvn -q -B -Dstyle.color=never --no-transfer-progress -f "$ROOT/scripts/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$KAFKA_HOME/lib" -DincludeScope=runtime; then
    die "could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its dependencies from Maven Central"
  fi
  ls "$KAFKA_HOME/lib"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  touch "$KAFKA_HOME/lib/.complete"
}

kafka_java() {
  java -Xms128m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_RUN/log" -Dlog4j.configuration="file:$ROOT/scripts/kafka/log4j.properties" \
    -cp "$KAFKA_HOME/lib/*" "$@"
}

kafka_ready() {
  node "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT" "$1"
}

kafka_up() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then
    log "KAFKA_BROKERS=$KAFKA_BROKERS is set: using it, starting no Kafka"
    return 0
  fi
  [[ -d "$ROOT/node_modules/kafkajs" ]] || die "node_modules/kafkajs is missing: run 'npm ci' first (the readiness check uses it)"
  if pid_alive "$KAFKA_RUN/kafka.pid" && kafka_ready 5 2>/dev/null; then
    log "Kafka already running on 127.0.0.1:$KAFKA_PORT (pid $(cat "$KAFKA_RUN/kafka.pid"))"
    return 0
  fi
  if port_busy "$KAFKA_PORT" || port_busy "$KAFKA_CONTROLLER_PORT"; then
    die "port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT on 127.0.0.1 is taken by a process this script did not start: stop it, or pick other ports with COSTTRACE_KAFKA_PORT / COSTTRACE_KAFKA_CONTROLLER_PORT, or point KAFKA_BROKERS at it"
  fi
  kafka_install
  mkdir -p "$KAFKA_RUN/data" "$KAFKA_RUN/log"
  sed -e "s#@DATA@#$KAFKA_RUN/data#g" -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
    "$ROOT/scripts/kafka/server.properties.template" >"$KAFKA_RUN/server.properties"
  if [[ ! -f "$KAFKA_RUN/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
    [[ -n "$cluster_id" ]] || die "kafka StorageTool random-uuid printed nothing; see $KAFKA_RUN/log"
    kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_RUN/server.properties" >"$KAFKA_RUN/log/format.log" 2>&1 ||
      die "formatting the KRaft storage failed; see $KAFKA_RUN/log/format.log"
  fi
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
  nohup setsid java -Xms128m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_RUN/log" -Dlog4j.configuration="file:$ROOT/scripts/kafka/log4j.properties" \
    -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$KAFKA_RUN/server.properties" \
    >"$KAFKA_RUN/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_RUN/kafka.pid"
  if ! kafka_ready "$READY_TIMEOUT_S"; then
    tail -n 30 "$KAFKA_RUN/log/stdout.log" "$KAFKA_RUN/log/server.log" >&2 || true
    die "Kafka did not answer metadata requests on 127.0.0.1:$KAFKA_PORT within ${READY_TIMEOUT_S}s"
  fi
  log "Kafka ready on 127.0.0.1:$KAFKA_PORT"
}

# ---------------------------------------------------------------- ClickHouse

clickhouse_bin() {
  if [[ -x /usr/sbin/clickhouse-server ]]; then echo /usr/sbin/clickhouse-server; return 0; fi
  command -v clickhouse-server 2>/dev/null || return 1
}

clickhouse_install() {
  if clickhouse_bin >/dev/null; then return 0; fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    die "clickhouse-server not found: install Debian's package 'clickhouse-server' (apt-get install clickhouse-server) or set CLICKHOUSE_URL"
  fi
  log "installing Debian package clickhouse-server"
  retry 3 apt-get update -qq || die "apt-get update failed: cannot reach Debian's package archive"
  DEBIAN_FRONTEND=noninteractive retry 3 apt-get install -y -qq --no-install-recommends clickhouse-server ||
    die "apt-get install clickhouse-server failed"
  clickhouse_bin >/dev/null || die "clickhouse-server was installed but its binary is not on this machine"
}

clickhouse_ready() {
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    if [[ -f "$CH_RUN/clickhouse.pid" ]] && ! pid_alive "$CH_RUN/clickhouse.pid"; then return 1; fi
    if curl -sf --max-time 2 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/ping" >/dev/null 2>&1 &&
      [[ "$(curl -sf --max-time 5 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/" --data-binary 'SELECT 1' 2>/dev/null)" == 1 ]]; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

clickhouse_up() {
  if [[ -n "${CLICKHOUSE_URL:-}" ]]; then
    log "CLICKHOUSE_URL=$CLICKHOUSE_URL is set: using it, starting no ClickHouse"
    return 0
  fi
  command -v curl >/dev/null || die "curl not found: it is used to check ClickHouse readiness (Debian package curl)"
  if pid_alive "$CH_RUN/clickhouse.pid" && clickhouse_ready 5; then
    log "ClickHouse already running on 127.0.0.1:$CLICKHOUSE_HTTP_PORT (pid $(cat "$CH_RUN/clickhouse.pid"))"
    return 0
  fi
  if port_busy "$CLICKHOUSE_HTTP_PORT" || port_busy "$CLICKHOUSE_TCP_PORT"; then
    die "port $CLICKHOUSE_HTTP_PORT or $CLICKHOUSE_TCP_PORT on 127.0.0.1 is taken by a process this script did not start: stop it, or pick other ports with COSTTRACE_CLICKHOUSE_HTTP_PORT / COSTTRACE_CLICKHOUSE_TCP_PORT, or point CLICKHOUSE_URL at it"
  fi
  clickhouse_install
  mkdir -p "$CH_RUN"/{log,data,tmp,user_files,format_schemas}
  sed -e "s#@ROOT@#$CH_RUN#g" -e "s#@HTTP_PORT@#$CLICKHOUSE_HTTP_PORT#g" -e "s#@TCP_PORT@#$CLICKHOUSE_TCP_PORT#g" \
    "$ROOT/scripts/clickhouse/config.xml.template" >"$CH_RUN/config.xml"
  cp "$ROOT/scripts/clickhouse/users.xml" "$CH_RUN/users.xml"
  log "starting ClickHouse on 127.0.0.1:$CLICKHOUSE_HTTP_PORT"
  local bin
  bin="$(clickhouse_bin)"
  (
    cd "$CH_RUN"
    nohup setsid "$bin" --config-file="$CH_RUN/config.xml" >"$CH_RUN/log/stdout.log" 2>&1 </dev/null &
    echo $! >"$CH_RUN/clickhouse.pid"
  )
  if ! clickhouse_ready "$READY_TIMEOUT_S"; then
    tail -n 30 "$CH_RUN/log/stdout.log" "$CH_RUN/log/clickhouse-server.err.log" >&2 || true
    die "ClickHouse did not answer /ping on 127.0.0.1:$CLICKHOUSE_HTTP_PORT within ${READY_TIMEOUT_S}s"
  fi
  log "ClickHouse $(curl -sf "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/" --data-binary 'SELECT version()') ready on 127.0.0.1:$CLICKHOUSE_HTTP_PORT"
}

# ---------------------------------------------------------------- stop / status

stop_pid() {
  local name=$1 pidfile=$2
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  local pid
  pid="$(cat "$pidfile")"
  log "stopping $name (pid $pid)"
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop within 30 s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

status() {
  if [[ -n "${KAFKA_BROKERS:-}" ]]; then echo "kafka: external ($KAFKA_BROKERS)"
  elif pid_alive "$KAFKA_RUN/kafka.pid"; then echo "kafka: running, pid $(cat "$KAFKA_RUN/kafka.pid"), 127.0.0.1:$KAFKA_PORT, version $KAFKA_VERSION"
  else echo "kafka: stopped"; fi
  if [[ -n "${CLICKHOUSE_URL:-}" ]]; then echo "clickhouse: external ($CLICKHOUSE_URL)"
  elif pid_alive "$CH_RUN/clickhouse.pid"; then echo "clickhouse: running, pid $(cat "$CH_RUN/clickhouse.pid"), http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"
  else echo "clickhouse: stopped"; fi
}

print_env() {
  echo "export KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
  echo "export CLICKHOUSE_URL=${CLICKHOUSE_URL:-http://127.0.0.1:$CLICKHOUSE_HTTP_PORT}"
}

case "${1:-}" in
  up)
    clickhouse_up
    kafka_up
    ;;
  down)
    stop_pid kafka "$KAFKA_RUN/kafka.pid"
    stop_pid clickhouse "$CH_RUN/clickhouse.pid"
    ;;
  status) status ;;
  env) print_env ;;
  *)
    echo "usage: $0 up|down|status|env" >&2
    exit 2
    ;;
esac
