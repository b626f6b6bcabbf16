#!/usr/bin/env bash
# The system packages the test suite's real servers need, installed once and idempotently:
#   - PostgreSQL (Debian's package): the delivery ledger's shared backend and the warehouse tap's source;
#   - Chromium (Debian's package): renders the HTML run report in a real headless browser;
#   - Azurite (npm): Azure Blob Storage on loopback, for the tap's az:// source.
# The Python servers (moto, asyncssh, pyftpdlib, gcp-storage-emulator) come with requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "install-test-services: need root (or sudo) to install ${need_apt[*]}" >&2
    exit 1
  fi
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Azurite into a project-local prefix, so nothing global is changed.
if [ ! -x .cache/node/node_modules/.bin/azurite-blob ]; then
  mkdir -p .cache/node
  npm install --silent --no-audit --no-fund --prefix .cache/node "azurite@^3" >/dev/null
fi
