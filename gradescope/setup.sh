#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image from the zip that
# `npm run gradescope-zip` writes (the zip's contents are in /autograder/source). It installs Node.js, if
# the image has no recent enough one, and the workbook's packages.
set -euo pipefail

AUTOGRADER_ROOT=${AUTOGRADER_ROOT:-/autograder}
SOURCE="$AUTOGRADER_ROOT/source"
# The Node.js release installed when the image has none: an LTS line the workbook supports.
NODE_VERSION=${WORKBOOK_NODE_VERSION:-24.22.3}
NODE_MAJOR_MIN=20

node_is_recent() {
  command -v node >/dev/null 2>&1 &&
    [ "$(node -p 'Number(process.versions.node.split(".")[0])')" -ge "$NODE_MAJOR_MIN" ]
}

install_node() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "setup.sh: no Node.js build for $(uname -m)" >&2 && exit 1 ;;
  esac
  if ! command -v curl >/dev/null || ! command -v xz >/dev/null; then
    apt-get update -q && apt-get install -y -q --no-install-recommends curl ca-certificates xz-utils
  fi
  local name="node-v$NODE_VERSION-linux-$arch.tar.xz" scratch
  scratch=$(mktemp -d)
  curl -fsSL -o "$scratch/$name" "https://nodejs.org/dist/v$NODE_VERSION/$name"
  curl -fsSL -o "$scratch/SHASUMS256.txt" "https://nodejs.org/dist/v$NODE_VERSION/SHASUMS256.txt"
  (cd "$scratch" && grep " $name\$" SHASUMS256.txt | sha256sum -c -)
  tar -xJf "$scratch/$name" -C /usr/local --strip-components=1 --no-same-owner
  rm -rf "$scratch"
}

node_is_recent || install_node
echo "setup.sh: Node.js $(node --version), npm $(npm --version)"
cd "$SOURCE"
npm ci --no-audit --no-fund
chmod +x "$SOURCE/run_autograder"
