#!/usr/bin/env bash
# npm run reliability: runs the reliability suite and writes docs/RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf test/artifacts/reliability
npm run -s build
npx tsc -p tsconfig.test.json
npx tap test/wal-crash.test.ts test/ship-faults.test.ts test/wal-disk-full.test.ts test/reliability-faults.test.ts test/fuzz-http.test.ts test/security.test.ts test/soak.test.ts \
  test/wal-lock.test.ts test/http-framing.test.ts test/drain.test.ts test/frame-repair.test.ts
node scripts/reliability-report.js --check
