#!/usr/bin/env bash
# Creates costtrace's Kafka topics with their documented partition counts (idempotent).
# Run by the kafka-init service of docker-compose.yml with the Kafka image's tools.
#   KAFKA_BROKERS=kafka:9092 bash deploy/kafka/create-topics.sh
set -euo pipefail
BROKERS="${KAFKA_BROKERS:?set KAFKA_BROKERS to host:port}"
TOOLS="${KAFKA_TOOLS_DIR:-/opt/kafka/bin}"
# name:partitions:cleanup.policy. Partitions bound the parallelism of each consumer group: the
# aggregator's replica ceiling is the otlp_spans partition count.
TOPICS=(
  "otlp_spans:${COSTTRACE_SPANS_PARTITIONS:-12}:delete"
  "otlp_spans.dlq:3:delete"
  "cost_deltas:${COSTTRACE_DELTAS_PARTITIONS:-12}:delete"
  "cost_deltas.dlq:3:delete"
  "budget_throttles:${COSTTRACE_THROTTLES_PARTITIONS:-3}:compact"
)
for spec in "${TOPICS[@]}"; do
  IFS=: read -r name partitions policy <<<"$spec"
  "$TOOLS/kafka-topics.sh" --bootstrap-server "$BROKERS" --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor "${COSTTRACE_REPLICATION_FACTOR:-1}" \
    --config "cleanup.policy=$policy" $([ "$policy" = delete ] && echo --config retention.ms=604800000)
done
"$TOOLS/kafka-topics.sh" --bootstrap-server "$BROKERS" --list
