#!/usr/bin/env bash
# Installs what a make target needs on a Debian/Ubuntu machine (apt) that has Swift 6.
#   scripts/deps.sh build   libsystemd-dev, pkg-config (what `swift build` links against)
#   scripts/deps.sh test    + procps, openssl, systemd (systemd-analyze), systemd-container, rpm, pytest
#   scripts/deps.sh bench   + runit (the reference supervisor), wrk
#   scripts/deps.sh rpm     + rpm (rpmbuild)
# Already-present packages are left alone; nothing is installed when everything is there.
set -euo pipefail
what="${1:-build}"

need_deb=()
want_deb() { for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need_deb+=("$p"); done; }

want_deb pkg-config libsystemd-dev
case "$what" in
  build) ;;
  test) want_deb procps openssl systemd curl systemd-container rpm ;;
  bench) want_deb procps runit wrk curl ;;
  rpm) want_deb rpm ;;
  *) echo "usage: $0 build|test|bench|rpm" >&2; exit 2 ;;
esac

if [ ${#need_deb[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "missing packages: ${need_deb[*]} (install them with your package manager)" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing: ${need_deb[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null || true
  $sudo apt-get install -y -qq --no-install-recommends "${need_deb[@]}" >/dev/null
fi

if [ "$what" = test ]; then
  python3 -c 'import pytest' 2>/dev/null || python3 -m pip install -q pytest
fi
exit 0
