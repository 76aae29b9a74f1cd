#!/usr/bin/env bash
# npm run bench -- NAME [ARGS]   runs dist/bench/NAME.js after building; without NAME, lists the benchmarks.
# Each prints `figure NAME VALUE UNIT` lines: ratios against baselines measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >&2
name="${1:-}"
if [ -z "$name" ]; then
  echo "benchmarks (npm run bench -- NAME):"
  grep -l "figure " dist/bench/*.js | xargs -n1 basename | sed 's/\.js$//; s/^/  /'
  exit 0
fi
shift
# The scp baseline needs an sshd of its own (started privately, on loopback, by the benchmark).
if { [ "$name" = send-throughput ] || [ "$name" = push-latency ]; } && [ ! -x /usr/sbin/sshd ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
  else
    echo "$name needs sshd for its scp baseline: sudo apt-get install openssh-server" >&2
    exit 1
  fi
fi
exec node --expose-gc "dist/bench/$name.js" "$@"
