#!/usr/bin/env bash
# Debian's Chromium and ChromeDriver for the browser test of the ML Ops view (no browser download at run time:
# Selenium is pointed at these two binaries). Skips when both are installed.
set -euo pipefail
if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo > /dev/null || { echo "installing chromium needs root (or sudo): apt-get install chromium chromium-driver" >&2; exit 1; }
  SUDO=sudo
fi
echo "installing Debian's chromium and chromium-driver (about a minute)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver > /dev/null
/usr/bin/chromium --version
