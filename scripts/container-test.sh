#!/usr/bin/env bash
# The container test: builds the image from the Dockerfile with podman and runs it as a user
# would: non-root, the WAL on a volume, /health as its health check, events acknowledged and
# shipped to the embedded S3 on the volume, --version, and SIGTERM drained to exit 0.
#
# No registry is reachable here, so the Dockerfile's node images are replaced by a local base:
# Debian bookworm from debootstrap (Debian's packages), with this machine's Node.js and npm and a
# `node` user, imported with `podman import`. This machine's cgroups are hybrid, which crun
# refuses: podman runs with runc and the cgroupfs manager, and lower rlimits (setrlimit above the
# sandbox's own is refused).
#
#   bash scripts/container-test.sh          (root; apt-installs podman runc debootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for c in podman runc debootstrap curl; do command -v "$c" >/dev/null 2>&1 || need+=("$c"); done
if ((${#need[@]})); then
  [ "$(id -u)" = 0 ] || { echo "container test needs: ${need[*]}" >&2; exit 1; }
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
PODMAN=(podman --runtime "$(command -v runc)" --cgroup-manager cgroupfs)
LIMITS=(--ulimit nofile=16384:16384 --ulimit nproc=8192:8192)
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-container-XXXXXX")
cid=""
cleanup() {
  [ -n "$cid" ] && "${PODMAN[@]}" rm -f "$cid" >/dev/null 2>&1 || true
  "${PODMAN[@]}" volume rm -f sluice-test-data >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; [ -n "$cid" ] && "${PODMAN[@]}" logs "$cid" 2>&1 | tail -20 >&2; exit 1; }

base=localhost/sluice-test-node:20-ca3
if ! "${PODMAN[@]}" image exists "$base"; then
  step "base image: debootstrap bookworm + this machine's node $(node --version)"
  debootstrap --variant=minbase --include=python3,make,g++,ca-certificates bookworm "$work/rootfs" http://deb.debian.org/debian >/dev/null
  cp "$(command -v node)" "$work/rootfs/usr/local/bin/node"
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  mkdir -p "$work/rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$work/rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
  # This machine's trust store: its registries are reached through a proxy with a CA of its own.
  cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
  # Node's headers for the native addons (node-gyp would download them from nodejs.org, which is
  # not reachable here): this Node's own, beside it.
  headers="$(node -p 'process.config.variables.node_prefix')/include/node"
  [ -f "$headers/common.gypi" ] || headers=/usr/include/node
  mkdir -p "$work/rootfs/usr/local/include"
  cp -a "$headers" "$work/rootfs/usr/local/include/node"
  chroot "$work/rootfs" useradd --uid 1000 --create-home --shell /bin/sh node
  tar -C "$work/rootfs" -c . | "${PODMAN[@]}" import \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' --change 'ENV npm_config_nodedir=/usr/local' - "$base" >/dev/null
  rm -rf "$work/rootfs"
fi

# --format docker: the OCI image format has no HEALTHCHECK.
step "podman build (the Dockerfile, with the local base for both stages)"
"${PODMAN[@]}" build "${LIMITS[@]}" --network host -q --format docker \
  --build-arg BUILD_IMAGE="$base" --build-arg RUNTIME_IMAGE="$base" --build-arg COMMIT="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
  -t localhost/sluice:test . >/dev/null

step "--version in the image"
version=$("${PODMAN[@]}" run --rm "${LIMITS[@]}" --health-interval disable localhost/sluice:test --version)
echo "$version"
[[ "$version" =~ ^sluice\ [0-9.]+\ \(commit\ [0-9a-f]{7,}.*Node\ v ]] || fail "--version said: $version"

port=$((20000 + RANDOM % 20000)); admin=$((port + 1))
step "run: ports $port/$admin on loopback, WAL and embedded S3 on a volume"
# --health-interval disable: no timer (podman schedules them with systemd, absent here); the
# check itself is run below with `podman healthcheck run`.
cid=$("${PODMAN[@]}" run -d "${LIMITS[@]}" --network host --health-interval disable -v sluice-test-data:/var/lib/sluice \
  -e SLUICE_PORT="$port" -e SLUICE_ADMIN_PORT="$admin" -e SLUICE_EMBEDDED_S3_PORT=0 -e SLUICE_SHIP_INTERVAL_S=2 \
  -e SLUICE_ADMIN_INTERFACE=127.0.0.1 localhost/sluice:test)
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null || fail "/health never answered 200"
[ "$("${PODMAN[@]}" exec "$cid" id -u)" != 0 ] || fail "the collector runs as root"
"${PODMAN[@]}" healthcheck run "$cid" >/dev/null || fail "the image's HEALTHCHECK failed on a healthy collector"
for i in $(seq 1 50); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/i?e=pv&eid=ctr-$i")
  [ "$code" = 200 ] || fail "event $i answered $code"
done
# Read whole before grep: grep -q stops at its match, and under pipefail curl's broken pipe would fail the step.
metrics=$(curl -fsS "http://127.0.0.1:$admin/metrics")
grep -q '^sluice_http_acknowledged_total 50$' <<<"$metrics" || fail "metrics do not count the 50 events"

step "SIGTERM: drain and exit 0"
"${PODMAN[@]}" stop -t 90 "$cid" >/dev/null
status=$("${PODMAN[@]}" inspect -f '{{.State.ExitCode}}' "$cid")
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
logs=$("${PODMAN[@]}" logs "$cid" 2>&1)
grep -q '"msg":"everything shipped"' <<<"$logs" || fail "the drain did not ship everything"
mount=$("${PODMAN[@]}" volume inspect -f '{{.Mountpoint}}' sluice-test-data)
objects=$(find "$mount/s3" -name '*.lzo._S3rver_object' | wc -l)
[ "$objects" -ge 1 ] || fail "no LZO object in the embedded S3 on the volume"
step "passed: non-root, healthy, 50 events acknowledged and shipped ($objects LZO object(s) on the volume), exit 0 after SIGTERM"
