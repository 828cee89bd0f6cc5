#!/usr/bin/env bash
# Builds the Debian packages of guichet with nfpm (v2.45.2, from the Go
# module proxy), from the binaries scripts/release.sh built:
#
#   scripts/package.sh [RELEASE_DIR [ARCH...]]   (default: bin/release amd64 arm64 armv7)
#
# gives RELEASE_DIR/guichet-hub_VERSION_{amd64,arm64,armhf}.deb (the hub's
# binary guichet-linux-ARCH, packaging/nfpm-hub.yaml) and
# RELEASE_DIR/guichet-device_VERSION_{amd64,arm64,armhf}.deb (the device's,
# guichet-device-linux-ARCH, packaging/nfpm-device.yaml); FLAVOURS="device"
# (or "hub") packages one only. Reproducible: file times and the package's
# date are the last commit's (SOURCE_DATE_EPOCH).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bin/release}
shift || true
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64 armv7)
GO=${GO:-go}
read -r -a flavours <<<"${FLAVOURS:-hub device}"
NFPM=${NFPM:-github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2}
v=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
# A Debian version starts with a digit: a tag v1.2.0 gives 1.2.0; an
# untagged commit 0~g1a2b3c4 (even a hash that starts with a digit).
if [[ $v =~ ^v?[0-9]+\. ]]; then v=${v#v}; else v="0~g$v"; fi
export VERSION=${v//-/+}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
export BUILD=$build
# The hub's sample configuration, from the binary of the machine building.
"$GO" run ./cmd/guichet config sample > "$build/guichet.yaml"
touch -d "@$SOURCE_DATE_EPOCH" "$build/guichet.yaml"
for a in "${arches[@]}"; do
  case $a in
    amd64) deb=amd64 ;; arm64) deb=arm64 ;; armv7) deb=armhf ;;
    *) echo "package: unknown architecture $a" >&2; exit 2 ;;
  esac
  for f in "${flavours[@]}"; do
    case $f in
      hub) bin=$out/guichet-linux-$a ;;
      device) bin=$out/guichet-device-linux-$a ;;
      *) echo "package: unknown flavour $f (hub, device)" >&2; exit 2 ;;
    esac
    export ARCH=$deb BIN=$bin
    [ -f "$BIN" ] || { echo "package: $BIN missing: run scripts/release.sh first" >&2; exit 1; }
    # nfpm expands variables in some fields only: the paths are put in here.
    sed -e "s#\${BIN}#$BIN#g" -e "s#\${BUILD}#$BUILD#g" "packaging/nfpm-$f.yaml" > "$build/nfpm.yaml"
    # nfpm runs for this machine: no GOARCH from the caller.
    env -u GOARCH -u GOARM -u CC GOFLAGS= "$GO" run "$NFPM" package --config "$build/nfpm.yaml" --packager deb --target "$out/guichet-${f}_${VERSION}_${deb}.deb" >/dev/null
    echo "$out/guichet-${f}_${VERSION}_${deb}.deb"
  done
done
