#!/usr/bin/env bash
# Installs nvid's systemd units (systemd/), pointed at this checkout and this Node.js.
# It never enables or starts anything: it prints the commands that would. See docs/systemd.md.
#
#   scripts/install-systemd.sh                 system units into /etc/systemd/system (root only),
#                                              plus the nvid account (sysusers.d) and /etc/nvid
#   scripts/install-systemd.sh --user          user units into ~/.config/systemd/user
#   ... --dest DIR                             only write the units into DIR (no account, no reload)
#   ... --node PATH                            the node binary (default: the one on PATH)
#   ... --dry-run                              say what would be done, do nothing
set -euo pipefail
checkout="$(cd "$(dirname "$0")/.." && pwd -P)"

mode=system dest="" node="" dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --user) mode=user ;;
    --dest) dest="${2:?--dest needs a folder}"; shift ;;
    --node) node="${2:?--node needs a path}"; shift ;;
    --dry-run) dry=1 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-systemd: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

node="${node:-$(command -v node || true)}"
[ -n "$node" ] || { echo "install-systemd: node not found on PATH; give it with --node PATH" >&2; exit 1; }
node="$(cd "$(dirname "$node")" && pwd -P)/$(basename "$node")"
# The paths go into unit files as they are: no spaces (ExecStart splits on them), no %
# (a systemd specifier), nothing sed would read as syntax.
for path in "$checkout" "$node"; do
  if [[ ! "$path" =~ ^/[A-Za-z0-9/._+-]*$ ]]; then
    echo "install-systemd: $path has characters a unit file cannot hold as is; move it or install by hand (docs/systemd.md)" >&2
    exit 1
  fi
done
[ -f "$checkout/dist/core/cli/main.js" ] || echo "install-systemd: warning: nvid is not built yet; run npm run build in $checkout before starting a unit" >&2

# Only the default destinations get the account, /etc/nvid and a daemon-reload.
full=0
if [ -z "$dest" ]; then
  full=1
  if [ "$mode" = system ]; then dest=/etc/systemd/system; else dest="${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user"; fi
fi

plan() { echo "  $*"; }
echo "install-systemd: $mode units from $checkout/systemd/$mode, running $node:"
for unit in "$checkout/systemd/$mode"/*.service; do plan "write $dest/$(basename "$unit")"; done
if [ $full = 1 ] && [ "$mode" = system ]; then
  plan "write /etc/sysusers.d/nvid.conf and run systemd-sysusers (the nvid account)"
  plan "create /etc/nvid (put coordinator.json and one NAME.json per screen there)"
fi
[ $full = 1 ] && plan "systemctl $([ "$mode" = user ] && echo '--user ')daemon-reload"

if [ $dry = 1 ]; then echo "install-systemd: dry run, nothing done"; exit 0; fi
if [ $full = 1 ] && [ "$mode" = system ] && [ "$(id -u)" != 0 ]; then
  echo "install-systemd: system units need root: sudo $0 (or --user for your own session, or --dest DIR to only write them)" >&2
  exit 1
fi

mkdir -p "$dest"
for unit in "$checkout/systemd/$mode"/*.service; do
  sed -e "s#/opt/nvid#$checkout#g" -e "s#/usr/bin/node#$node#g" "$unit" > "$dest/$(basename "$unit").tmp"
  chmod 0644 "$dest/$(basename "$unit").tmp"
  mv "$dest/$(basename "$unit").tmp" "$dest/$(basename "$unit")"
done
if [ $full = 1 ] && [ "$mode" = system ]; then
  install -D -m 0644 "$checkout/systemd/sysusers.d/nvid.conf" /etc/sysusers.d/nvid.conf
  systemd-sysusers /etc/sysusers.d/nvid.conf
  install -d -m 0755 /etc/nvid
fi
if [ $full = 1 ]; then
  if [ "$mode" = user ]; then systemctl --user daemon-reload; else systemctl daemon-reload; fi
fi

echo "install-systemd: done. Nothing is enabled yet; for example:"
if [ "$mode" = system ]; then
  echo "  systemctl enable --now nvid-coordinator.service     # /etc/nvid/coordinator.json"
  echo "  systemctl enable --now nvid-node@lobby.service      # /etc/nvid/lobby.json, on DISPLAY=:0"
else
  echo "  systemctl --user enable --now nvid-node.service         # ~/.config/nvid/node.json, in this graphical session"
  echo "  systemctl --user enable --now nvid-coordinator.service  # ~/.config/nvid/coordinator.json"
fi
