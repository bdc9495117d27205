#!/usr/bin/env bash
# The test command (npm test): checks the tools the tests need, builds, generates the thrift test
# code from thrift/collector-payload.thrift, and runs the tap suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v thrift >/dev/null 2>&1 || need+=(thrift-compiler)
command -v lzop >/dev/null 2>&1 || need+=(lzop)
command -v mkfs.ext4 >/dev/null 2>&1 || need+=(e2fsprogs)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || need+=(faketime)
/usr/bin/python3 -c 'import fusepy' >/dev/null 2>&1 || need+=(python3-fusepy libfuse2)
command -v fusermount >/dev/null 2>&1 || need+=(fuse3)
if ((${#need[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test prerequisites: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing test prerequisites: ${need[*]} (install them: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

npm run -s build
npx tsc -p tsconfig.test.json   # the tests type-check too
node scripts/gen-test-thrift.js >/dev/null
# Every temporary directory of the run (the tests' WAL directories, the servers' data, the S3
# buckets) goes under one directory, removed afterwards: left behind, they added up to GBs per run,
# and a full disk made later collectors refuse events (wal.minFreeBytes).
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-test-run-XXXXXX")
trap 'rm -rf "$run_tmp" || true' EXIT
export TMPDIR="$run_tmp"
if (($#)); then npx tap "$@"; exit; fi
# The whole suite: afterwards, the reliability scenarios' figures as a report (and a failure if a
# scenario was not run or lost, duplicated or crashed). docs/RELIABILITY.md is npm run reliability's.
rm -rf test/artifacts/reliability
npx tap
# (Without root the full-disk scenario is skipped, so the report cannot be complete.)
check=(); [ "$(id -u)" = 0 ] && check=(--check)
node scripts/reliability-report.js "${check[@]}" --out test/artifacts/RELIABILITY.md
