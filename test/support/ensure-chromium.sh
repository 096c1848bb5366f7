#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core downloads no browser of its own).
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
echo "The browser tests need /usr/bin/chromium: run 'sudo apt-get install chromium' once." >&2
exit 1
