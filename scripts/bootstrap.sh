#!/usr/bin/env bash
# Installs what nvid needs and builds it; run by `npm test` and `npm run demo`.
# Debian packages come from apt-get when we are root; otherwise we say what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

need_node="20.19.0"
node_version="$(node -p 'process.versions.node')"
if ! node -e "const [a,b]=process.versions.node.split('.').map(Number); process.exit((a===20&&b>=19)||(a===22&&b>=12)||a>=23 ? 0 : 1)"; then
  echo "nvid needs Node.js ^20.19.0 or >=22.12.0; this is $node_version" >&2
  exit 1
fi

# command -> Debian package that provides it (openbox: the display tests also run under a window manager;
# chromium: the panel's browser tests, driven by playwright-core, which never downloads a browser itself;
# xset: the display's screen power, DPMS; nats-server: the coordinator's shared directory tests;
# ip and tc: the network-namespace tests of discovery)
declare -A provides=([ffmpeg]=ffmpeg [ffprobe]=ffmpeg [tcpdump]=tcpdump [ffplay]=ffmpeg [Xvfb]=xvfb [xwininfo]=x11-utils [xset]=x11-xserver-utils [xprop]=x11-utils [xdotool]=xdotool [openbox]=openbox [setpriv]=util-linux [openssl]=openssl [docker-compose]=docker-compose [chromium]=chromium [nats-server]=nats-server [ip]=iproute2 [tc]=iproute2)
missing=()
for cmd in "${!provides[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${provides[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  packages="$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian packages: $packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $packages >/dev/null
  else
    echo "bootstrap: missing programs; install them, e.g.: sudo apt-get install $packages" >&2
    exit 1
  fi
fi

# npm packages: none of nvid's dependencies needs an install script, so skip them all (npm 11 would ask).
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi

# A clean build, so no test compiled from a deleted source lingers in dist/.
rm -rf dist
node_modules/.bin/tsc -p .
