#!/usr/bin/env bash
# Builds guichet for the boards and the hub: linux/amd64, linux/arm64 (Pi 3,
# 4, 5 and Zero 2 W on 64-bit Raspberry Pi OS) and linux/arm (ARMv7: Pi 2 and
# later on 32-bit Raspberry Pi OS), with cgo for SQLite through Debian's
# cross compilers (scripts/test-deps.sh installs them). The binaries link
# against glibc 2.36 (Debian 12, Raspberry Pi OS Bookworm).
#
# Reproducible: the same source gives the same bytes — no paths (-trimpath),
# no VCS stamp, no build id, the version from git (or $VERSION).
#
# Two flavours per architecture (docs/install.md, « Deux paquets »):
# guichet-linux-ARCH, the hub's binary with every command (package
# guichet-hub), and guichet-device-linux-ARCH, built with -tags device
# without the hub's code (package guichet-device, and the update bundles
# devices install). FLAVOURS="device" (or "hub") builds one only.
#
# Signed: with GUICHET_SIGNING_KEY=FILE (a minisign secret key, guichet
# release keygen; its password in GUICHET_SIGNING_PASSWORD when encrypted),
# each device binary gets its .minisig, the update bundle devices install
# (docs/install.md, « Mises à jour signées »). The version must then be a
# release tag (v1.4.0). Ed25519 signs deterministically and the trusted
# comment holds no date: the same binary and key give the same .minisig.
#
#   scripts/release.sh [OUT_DIR [ARCH...]]    (default: bin/release amd64 arm64 armv7)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/release}
shift || true
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64 armv7)
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
GO=${GO:-go}
read -r -a flavours <<<"${FLAVOURS:-hub device}"
mkdir -p "$out"
for a in "${arches[@]}"; do
  case $a in
    amd64) env=(GOARCH=amd64 CC=gcc) ;;
    arm64) env=(GOARCH=arm64 CC=aarch64-linux-gnu-gcc) ;;
    armv7) env=(GOARCH=arm GOARM=7 CC=arm-linux-gnueabihf-gcc) ;;
    *) echo "release: unknown architecture $a (amd64, arm64, armv7)" >&2; exit 2 ;;
  esac
  cc=${env[-1]#CC=}
  command -v "$cc" >/dev/null || { echo "release: $cc missing: scripts/test-deps.sh installs it" >&2; exit 1; }
  for f in "${flavours[@]}"; do
    case $f in
      hub) tags=() name=guichet-linux-$a ;;
      device) tags=(-tags device) name=guichet-device-linux-$a ;;
      *) echo "release: unknown flavour $f (hub, device)" >&2; exit 2 ;;
    esac
    env "${env[@]}" GOOS=linux CGO_ENABLED=1 GOFLAGS= \
      "$GO" build -trimpath -buildvcs=false "${tags[@]}" \
      -ldflags "-s -w -buildid= -X main.version=$VERSION" \
      -o "$out/$name" ./cmd/guichet
    echo "$out/$name"
  done
done
# Only the device binaries are bundles: the hub serves them to devices; a
# hub is updated by its package.
if [ -n "${GUICHET_SIGNING_KEY:-}" ] && [[ " ${flavours[*]} " == *" device "* ]]; then
  signer="$out/.guichet-signer"
  GOFLAGS= "$GO" build -o "$signer" ./cmd/guichet
  for a in "${arches[@]}"; do
    "$signer" release sign --key "$GUICHET_SIGNING_KEY" --version "$VERSION" --arch "$a" --flavour device "$out/guichet-device-linux-$a"
  done
  rm -f "$signer"
fi
