#!/bin/sh
# Installs what the test suite needs beyond npm packages: the validators tsbuild's images are
# checked with (umoci, skopeo, oci-image-tool), a real registry for push/pull tests
# (docker-registry, htpasswd), a Docker daemon for the --load test (docker.io), busybox-static
# for fixture base images, attr for xattrs, and a C compiler for the
# sandbox helper. Debian packages only; safe to run twice. Needs root (or sudo).
set -eu
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
PKGS="gcc libc6-dev make umoci skopeo oci-image-tool docker-registry apache2-utils busybox-static \
  iproute2 xz-utils bzip2 gzip zstd tar util-linux procps libcap2-bin attr docker.io"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # --no-install-recommends keeps docker-registry from starting a system service we do not use.
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The Debian package enables a registry service on :5000; tests start their own on free ports.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
echo "test prerequisites installed"
