#!/usr/bin/env bash
# npm run bench -- NAME   runs dist/bench/NAME.js (after building); without NAME, lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
name="${1:-}"
if [ -z "$name" ]; then
  echo "benchmarks:"; ls dist/bench/*.js | xargs -n1 basename | sed 's/\.js$//; s/^/  /'
  exit 0
fi
shift
exec node --expose-gc "dist/bench/$name.js" "$@"
