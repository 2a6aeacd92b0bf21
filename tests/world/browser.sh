#!/usr/bin/env bash
# Debian's Chromium and its WebDriver, for the sign-in test a real browser
# drives (tests/integration/browser_login.py). Selenium Manager cannot
# download a browser here; the test gives selenium these paths.
source "$(dirname "$0")/lib.sh"

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
  log "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null)"
  exit 0
fi
log "installing chromium and chromium-driver"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
