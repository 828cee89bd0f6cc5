#!/usr/bin/env bash
# Installs what the tests need beyond Go and gcc, when it is missing, so that
# "make test" works on a fresh Debian machine. As root it installs with apt;
# otherwise it says what to install.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
# command → Debian package
declare -A pkg=([mosquitto]=mosquitto [mosquitto_pub]=mosquitto-clients [mosquitto_sub]=mosquitto-clients [chromium]=chromium [espeak-ng]=espeak-ng [sox]=sox [curl]=curl [openssl]=openssl)
for cmd in "${!pkg[@]}"; do
  have "$cmd" || need+=("${pkg[$cmd]}")
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
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
