#!/usr/bin/env bash
# Installs what a make target needs on a Debian/Ubuntu machine (apt) that has Swift 6.
#   scripts/deps.sh build   libsystemd-dev, pkg-config (what `swift build` links against)
#   scripts/deps.sh test    + procps, openssl, systemd (systemd-analyze), iproute2 (ip netns), systemd-container, rpm, sqlite3,
#                             rclone, s3cmd, postgresql, ceph-mon/mgr/osd + radosgw (the tests start their own servers);
#                             chromium + chromium-driver (the portal's browser tests);
#                             Python: pytest, requests, boto3/botocore[crt], awscli, selenium
#   scripts/deps.sh bench   + runit (the reference supervisor), wrk, nginx (the S3 reference), haproxy (the VIP reference), taskset, valgrind (instruction counts)
#   scripts/deps.sh rpm     + rpm (rpmbuild)
# Already-present packages are left alone; nothing is installed when everything is there.
set -euo pipefail
what="${1:-build}"

need_deb=()
want_deb() { for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need_deb+=("$p"); done; }

want_deb pkg-config libsystemd-dev libsqlite3-dev
case "$what" in
  build) ;;
  test) want_deb procps openssl systemd curl iproute2 systemd-container rpm sqlite3 rclone s3cmd postgresql \
        ceph-mon ceph-mgr ceph-osd radosgw ceph-common chromium chromium-driver ;;
  bench) want_deb procps runit wrk curl nginx-light haproxy util-linux valgrind binutils postgresql ;;
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
  # The S3 clients the e2e tests use (botocore[crt] for CRC32C/CRC64NVME), pinned to known versions.
  python3 - <<'PY' || python3 -m pip install -q --disable-pip-version-check pytest requests "boto3==1.43.11" "botocore[crt]==1.43.11" "awscli==1.45.11" "selenium==4.51.0"
import importlib.metadata as m, sys
need = {"boto3": "1.43.11", "botocore": "1.43.11", "awscli": "1.45.11", "selenium": "4.51.0"}
for mod in ("pytest", "requests", "awscrt"):
    m.version(mod)
sys.exit(any(m.version(k) != v for k, v in need.items()))
PY
fi
exit 0
