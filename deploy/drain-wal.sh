#!/usr/bin/env bash
# Drains a collector before its instance goes away (Auto Scaling lifecycle hook, docs/deploy.md):
# stops it gracefully (the service's own drain ships what it can), then ships whatever is left in
# the WAL with `sluice replay`, retrying until the WAL holds no segment or the deadline passes.
# Exit 0: the WAL is empty, every acknowledged event is in S3. Exit 1: segments remain (keep the
# volume; docs/recovery.md).
#
# Environment: SLUICE_WAL_DIR (/var/lib/sluice/wal), SLUICE_CONFIG (/etc/sluice/collector.hocon),
# SLUICE_STOP_COMMAND ("systemctl stop sluice"), DRAIN_DEADLINE_S (240), SLUICE_BIN (sluice).
set -euo pipefail
wal="${SLUICE_WAL_DIR:-/var/lib/sluice/wal}"
config="${SLUICE_CONFIG:-/etc/sluice/collector.hocon}"
deadline=$(( $(date +%s) + ${DRAIN_DEADLINE_S:-240} ))
sluice="${SLUICE_BIN:-sluice}"

echo "drain: stopping the collector"
bash -c "${SLUICE_STOP_COMMAND:-systemctl stop sluice}"

segments() { find "$wal" -maxdepth 2 -name 'segment-*.seg' | wc -l; }   # shard-<n>/ with wal.shards > 1
config_args=()
[ -f "$config" ] && config_args=(--config "$config")
while [ "$(segments)" -gt 0 ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "drain: deadline passed with $(segments) segment(s) left in $wal: keep this volume and run sluice replay (docs/recovery.md)" >&2
    exit 1
  fi
  echo "drain: $(segments) segment(s) left; sluice replay"
  "$sluice" replay "$wal" "${config_args[@]}" || sleep 5
done
echo "drain: WAL empty, every acknowledged event is in S3"
