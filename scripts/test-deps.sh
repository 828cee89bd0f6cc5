#!/usr/bin/env bash
# Installs what the tests need beyond Go and gcc, when it is missing, so that
# "make test" works on a fresh Debian machine. As root it installs with apt;
# otherwise it says what to install. Then it installs the third-party ESC/POS
# parser hw/printer's tests use as a judge (npm ci, versions pinned in
# hw/printer/judge/package-lock.json). LibreOffice Calc (headless) opens the
# statistics CSV files in hub/stats tests. The cross compilers (their libc6-dev
# come with them), qemu-user-static, dpkg and systemd-analyze serve the
# release and packaging tests (packaging/). minisign (the reference tool of the
# signature format signed updates use) judges firmware/update's signatures.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1; }
# command → Debian package
declare -A pkg=([mosquitto]=mosquitto [mosquitto_pub]=mosquitto-clients [mosquitto_sub]=mosquitto-clients [chromium]=chromium [espeak-ng]=espeak-ng [sox]=sox [node]=nodejs [npm]=npm [sqlite3]=sqlite3 [pdftotext]=poppler-utils [curl]=curl [openssl]=openssl [soffice]=libreoffice-calc-nogui
  [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu [arm-linux-gnueabihf-gcc]=gcc-arm-linux-gnueabihf [qemu-aarch64-static]=qemu-user-static [dpkg-deb]=dpkg [systemd-analyze]=systemd [minisign]=minisign)
for cmd in "${!pkg[@]}"; do
  have "$cmd" || need+=("${pkg[$cmd]}")
done

# The acknowledgement PDF's font (hub/crm falls back to a core font without it).
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)

if [ ${#need[@]} -gt 0 ]; then
  echo "test-deps: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    if have sudo; then SUDO=sudo; else
      echo "test-deps: run as root, or install: apt-get install -y ${need[*]}" >&2
      exit 1
    fi
  else
    SUDO=
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The ESC/POS judge: no install scripts (npos pulls a USB driver it does not
# need to parse).
judge=hw/printer/judge
if [ ! -f "$judge/node_modules/npos/package.json" ] || [ "$judge/package-lock.json" -nt "$judge/node_modules/.package-lock.json" ]; then
  echo "test-deps: npm ci in $judge"
  npm ci --prefix "$judge" --no-audit --no-fund --ignore-scripts --loglevel=error
fi

# axe-core, which the browser tests inject into pages to check their
# accessibility (internal/axe; version pinned in its package-lock.json).
axe=internal/axe
if [ ! -f "$axe/node_modules/axe-core/axe.min.js" ] || [ "$axe/package-lock.json" -nt "$axe/node_modules/.package-lock.json" ]; then
  echo "test-deps: npm ci in $axe"
  npm ci --prefix "$axe" --no-audit --no-fund --ignore-scripts --loglevel=error
fi

# The Standard Webhooks reference library, which a receiver in cloud/webhook's
# tests verifies the hub's signatures with (version pinned in its
# package-lock.json).
judge=cloud/webhook/judge
if [ ! -f "$judge/node_modules/standardwebhooks/package.json" ] || [ "$judge/package-lock.json" -nt "$judge/node_modules/.package-lock.json" ]; then
  echo "test-deps: npm ci in $judge"
  npm ci --prefix "$judge" --no-audit --no-fund --ignore-scripts --loglevel=error
fi
