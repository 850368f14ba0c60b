#!/usr/bin/env bash
# Checks the running stack with independent clients (not our code):
# redis-cli, kcat and ClickHouse's HTTP interface. Exit non-zero on any miss.
set -euo pipefail
fail() { echo "check-clients: $*" >&2; exit 1; }

[ "$(redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-6379}" ping)" = "PONG" ] || fail "redis-cli ping"
echo "redis-cli ping: PONG"

broker_port=${KAFKA_PORTS:-9092}; broker_port=${broker_port%%,*}
meta=$(kcat -L -b "127.0.0.1:${broker_port}" -t ballots)
echo "$meta" | grep -q ' 3 brokers:' || fail "kcat: expected 3 brokers"
echo "$meta" | grep -q 'topic "ballots" with 20 partitions' || fail "kcat: expected ballots with 20 partitions"
[ "$(echo "$meta" | grep -cE 'replicas: [0-9]+,[0-9]+,[0-9]+,')" -eq 20 ] || fail "kcat: expected 3 replicas per partition"
echo "kcat -L: 3 brokers, ballots with 20 partitions x 3 replicas"

version=$(curl -fsS "http://127.0.0.1:${CLICKHOUSE_HTTP_PORT:-8123}/?query=SELECT%20version()")
[ -n "$version" ] || fail "ClickHouse SELECT version()"
echo "ClickHouse SELECT version(): $version"
