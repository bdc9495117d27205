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
exec npx tap "$@"
