#!/usr/bin/env bash
# Runs the unit tests again under the current Node LTS (24), after `npm test`'s own run (npm's
# posttest), so CI covers both ends of `engines`. Only in CI (CI=true) or when asked
# (NVID_TEST_NODE24=1): the first run downloads Node (~50 MB; 190 MB unpacked), and a local
# `npm test` should stay as fast as it was.
#
# Node comes from the npm registry's node-<platform>-<arch> package: it ships bin/node itself
# and has no install script, so the npm client and registry settings used for everything else
# apply, and nothing is installed outside node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${CI:-}" != true ] && [ "${NVID_TEST_NODE24:-}" != 1 ]; then
  exit 0
fi
if [ ! -d dist/test/unit ]; then
  echo "node24: dist/test/unit is missing; run npm test (it builds first)" >&2
  exit 1
fi

major=24
# Node's own names: linux-x64, linux-arm64, darwin-arm64 ... (the packages use the same).
package="node-$(node -p 'process.platform')-$(node -p 'process.arch')"
cache="node_modules/.cache/nvid-node$major"
mkdir -p "$cache"

# `npm pack` resolves $major to its newest release and fetches it through npm's own cache.
# Its --json lists every file of the package (thousands of headers): read it from a file.
npm pack "$package@$major" --pack-destination "$cache" --json --loglevel=error >"$cache/pack.json"
read -r version filename < <(node -e 'const [p] = require(process.argv[1]); console.log(p.version, p.filename)' "$PWD/$cache/pack.json")
tarball="$cache/$filename"
rm -f "$cache/pack.json"
home="$cache/$version"
if [ ! -x "$home/bin/node" ]; then
  rm -rf "$home.part" && mkdir -p "$home.part"
  tar -xzf "$tarball" -C "$home.part" --strip-components=1
  mv "$home.part" "$home"
fi
rm -f "$tarball"
node24="$home/bin/node"
case "$("$node24" --version)" in
  "v$major".*) ;;
  *) echo "node24: $node24 is $("$node24" --version), not Node $major" >&2; exit 1 ;;
esac

# The same mocha options as .mocharc.json, but only the unit tests: mocha adds spec files
# named on its command line to the config's, so the spec is replaced in a copy of the config.
config="$cache/mocharc.unit.json"
node -e 'const c = require("./.mocharc.json"); c.spec = ["dist/test/unit/**/*.test.js"]; process.stdout.write(JSON.stringify(c))' >"$config"

echo
echo "node24: the unit tests again, under Node $("$node24" --version) (the run above used Node $(node --version))"
status=0
"$node24" node_modules/mocha/bin/mocha.js --config "$config" || status=$?
if [ "$status" != 0 ]; then
  echo "node24: the unit tests failed under Node $("$node24" --version) (mocha exit $status)" >&2
  exit "$status"
fi
