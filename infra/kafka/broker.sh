#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft) from Maven Central jars.
#   infra/kafka/broker.sh up     download jars if missing, format storage once, start, wait until it answers
#   infra/kafka/broker.sh down   stop the broker started by `up` (SIGTERM, then SIGKILL after 30 s)
#   infra/kafka/broker.sh status exit 0 when something answers on the broker port
# Nothing is started when KAFKA_BROKERS already answers (a Redpanda, a cluster, an earlier `up`).
# Environment: KAFKA_BROKERS (default 127.0.0.1:9092), KAFKA_DATA_DIR (default <repo>/.data/kafka),
#              KAFKA_CONTROLLER_PORT (default 9093).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
brokers="${KAFKA_BROKERS:-127.0.0.1:9092}"
first="${brokers%%,*}"
host="${first%:*}"
port="${first##*:}"
data="${KAFKA_DATA_DIR:-$repo/.data/kafka}"
cport="${KAFKA_CONTROLLER_PORT:-9093}"
lib="$here/lib"
pidfile="$data/broker.pid"

answers() { (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; }

fetch_jars() {
  if [ -f "$lib/.complete" ]; then return; fi
  command -v mvn >/dev/null || { echo "broker.sh: Maven (mvn) is needed to download the Kafka jars; apt-get install maven" >&2; exit 1; }
  command -v java >/dev/null || { echo "broker.sh: Java 17 is needed to run Kafka; apt-get install openjdk-17-jre-headless" >&2; exit 1; }
  echo "broker.sh: resolving Kafka jars from Maven Central into infra/kafka/lib" >&2
  rm -rf "$lib"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" >&2
  touch "$lib/.complete"
}

java_opts=(-Xms512m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$here/log4j2.properties")

up() {
  if answers; then echo "broker.sh: $host:$port already answers; nothing started" >&2; return 0; fi
  fetch_jars
  mkdir -p "$data"
  sed -e "s#@DATA_DIR@#$data#g" -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$cport#g" \
    "$here/server.properties" > "$data/server.properties"
  if [ ! -f "$data/logs/meta.properties" ]; then
    local id
    id="$(java -cp "$lib/*" "${java_opts[@]}" kafka.tools.StorageTool random-uuid)"
    java -cp "$lib/*" "${java_opts[@]}" kafka.tools.StorageTool format --standalone \
      -t "$id" -c "$data/server.properties" >"$data/format.log" 2>&1 \
      || { cat "$data/format.log" >&2; exit 1; }
  fi
  nohup java -cp "$lib/*" "${java_opts[@]}" kafka.Kafka "$data/server.properties" \
    >"$data/broker.log" 2>&1 </dev/null &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if answers; then echo "broker.sh: Kafka is up on $host:$port (pid $(cat "$pidfile"), log $data/broker.log)" >&2; return 0; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "broker.sh: Kafka exited during start; last lines of $data/broker.log:" >&2
      tail -30 "$data/broker.log" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "broker.sh: Kafka did not answer on $host:$port within 60 s" >&2; exit 1
}

down() {
  [ -f "$pidfile" ] || { echo "broker.sh: no broker started from $data" >&2; return 0; }
  local pid; pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$pidfile"
  echo "broker.sh: Kafka stopped" >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) answers ;;
  jars) fetch_jars ;;
  *) echo "usage: infra/kafka/broker.sh up|down|status|jars" >&2; exit 2 ;;
esac
