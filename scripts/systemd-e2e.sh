#!/usr/bin/env bash
# Installs the RPM in a throw-away container that boots this machine's own systemd (systemd-nspawn over
# an overlay of / with a tmpfs upper layer, so nothing on the host changes) and checks, as an operator
# would: rpm -i starts voss-keeper; ose works (also in Chinese); a killed worker is replaced;
# systemctl reload; kill -9 of the keeper is restarted by systemd with no orphan; a wedged (SIGSTOPped)
# keeper is killed by the watchdog and restarted; systemctl stop; rpm -e keeps config and logs.
#
#   scripts/systemd-e2e.sh voss-0.1.0-1.el7.x86_64.rpm
#
# Needs root, systemd-nspawn (systemd-container) and overlayfs. Exits 0 on success, 1 on a failed
# check, 77 when this machine cannot run the container at all (the reason is printed).
set -uo pipefail
rpm_file=$(readlink -f "${1:?usage: $0 FILE.rpm}")
[ "$(id -u)" -eq 0 ] || { echo "systemd-e2e: SKIPPED: needs root"; exit 77; }
command -v systemd-nspawn >/dev/null || { echo "systemd-e2e: SKIPPED: systemd-nspawn not installed"; exit 77; }

work=$(mktemp -d /tmp/voss-e2e.XXXXXX)
cleanup() {
  umount -l "$work/merged" 2>/dev/null
  umount -l "$work/ovl" 2>/dev/null
  rm -rf "$work" 2>/dev/null
}
trap cleanup EXIT
[ -n "${KEEP_E2E:-}" ] && trap - EXIT
mkdir -p "$work/ovl" "$work/merged" "$work/share/out"
mount -t tmpfs -o size=4g none "$work/ovl" || { echo "systemd-e2e: SKIPPED: cannot mount tmpfs"; exit 77; }
mkdir -p "$work/ovl/upper" "$work/ovl/work"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$work/merged"; then
  echo "systemd-e2e: SKIPPED: cannot mount an overlay of /"
  exit 77
fi
cp "$rpm_file" "$work/share/voss.rpm"
python=$(python3 -c 'import sys; print(sys.executable)')
rm -f "$work/merged/etc/machine-id"

cat > "$work/share/inside.sh" <<INSIDE_HEAD
#!/bin/bash
PY=$python
INSIDE_HEAD
cat >> "$work/share/inside.sh" <<'INSIDE'
out=/e2e/out
exec > $out/log.txt 2>&1
fails=0
check() {  # check "what" command...
  local what=$1; shift
  if "$@"; then echo "PASS: $what"; else echo "FAIL: $what"; fails=$((fails+1)); fi
}
waitfor() {  # waitfor SECONDS command...
  local until=$(( $(date +%s%N) + $1 * 1000000000 )); shift
  while [ "$(date +%s%N)" -lt "$until" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
alive() { [ -d /proc/$1 ] && ! grep -q '^State:.*Z' /proc/$1/status; }
pid_of() { ose --json service show | $PY -c "import json,sys; print([w['pid'] for w in json.load(sys.stdin)['workers'] if w['name']=='$1'][0])"; }

rpm -ivh --nodeps /e2e/voss.rpm
check "rpm -i starts voss-keeper" waitfor 20 systemctl is-active --quiet voss-keeper
check "systemd status line says ready" waitfor 20 sh -c 'systemctl show -p StatusText --value voss-keeper | grep -q "^ready: 3/3 workers running"'
check "ose service show works" ose service show
check "ose speaks Chinese with LANG=zh_CN.UTF-8" sh -c 'LANG=zh_CN.UTF-8 ose service show | grep -q "运行中"'
check "WatchdogSec is 30 s" sh -c '[ "$(systemctl show -p WatchdogUSec --value voss-keeper)" = 30s ]'

ose tenant create --name acme >/dev/null && ose user create --tenant acme --name alice >/dev/null
ose --json key create --tenant acme --user alice > /e2e/out/key.json
check "S3 over HTTPS on 443 with the installed package" $PY -c '
import json, boto3, warnings
warnings.filterwarnings("ignore")
k = json.load(open("/e2e/out/key.json"))
s3 = boto3.client("s3", endpoint_url="https://127.0.0.1:443", aws_access_key_id=k["accessKey"], aws_secret_access_key=k["secret"], region_name="us-east-1", verify=False)
s3.create_bucket(Bucket="installed")
s3.put_object(Bucket="installed", Key="k", Body=b"from the rpm")
assert s3.get_object(Bucket="installed", Key="k")["Body"].read() == b"from the rpm"
s3.put_object(Bucket="installed", Key="big", Body=b"x" * 100000)
assert s3.get_object(Bucket="installed", Key="big")["Body"].read() == b"x" * 100000
'
# A small object lives in the database beside its row (decisions.md 50), a larger one in a file.
check "object data is under /var/lib/voss" sh -c 'grep -qa "from the rpm" /var/lib/voss/metadata.sqlite* && find /var/lib/voss/objects -type f | grep -q .'

old=$(pid_of i18n); kill -9 "$old"; start=$(date +%s%N)
check "killed i18n answers again" waitfor 5 curl -sf http://127.0.0.1:8091/i18n/api/v2/translation/products/VOSS/versions/0.1.0/locales/en/components/ose -o /dev/null
echo "i18n back after $(( ($(date +%s%N) - start) / 1000000 )) ms"
check "ose shows the restart and its reason" sh -c 'ose service show | grep -q "killed by SIGKILL"'

check "systemctl reload" systemctl reload voss-keeper
check "reload was a SIGHUP push" waitfor 5 sh -c 'journalctl -u voss-keeper --no-pager | grep -q "SIGHUP: pushing configuration"'

keeper=$(systemctl show -p MainPID --value voss-keeper); worker=$(pid_of i18n)
kill -9 "$keeper"
check "systemd restarts a killed keeper" waitfor 15 sh -c "[ \"\$(systemctl show -p MainPID --value voss-keeper)\" != $keeper ] && systemctl is-active --quiet voss-keeper"
check "no worker of the killed keeper is left" waitfor 3 sh -c "! { [ -d /proc/$worker ] && ! grep -q '^State:.*Z' /proc/$worker/status; }"
check "the new keeper is ready" waitfor 15 sh -c 'systemctl show -p StatusText --value voss-keeper | grep -q "^ready:"'

keeper=$(systemctl show -p MainPID --value voss-keeper)
kill -STOP "$keeper"
check "the watchdog kills a wedged keeper and systemd restarts it" waitfor 60 sh -c "[ \"\$(systemctl show -p MainPID --value voss-keeper)\" != $keeper ] && systemctl is-active --quiet voss-keeper"
check "journal names the watchdog" sh -c 'journalctl -u voss-keeper --no-pager | grep -qi "watchdog timeout"'
check "ready again after the watchdog restart" waitfor 15 sh -c 'ose service show | grep -q "running"'

worker=$(pid_of i18n)
check "systemctl stop" systemctl stop voss-keeper
check "stop leaves no worker" sh -c "! { [ -d /proc/$worker ] && ! grep -q '^State:.*Z' /proc/$worker/status; }"
systemctl start voss-keeper
check "rpm -e" rpm -e --nodeps voss
check "rpm -e stops the service" sh -c '! systemctl is-active --quiet voss-keeper'
check "rpm -e removes the binaries" sh -c '[ ! -e /usr/libexec/voss/voss ] && [ ! -e /usr/bin/ose ]'
check "rpm -e keeps /etc/voss" test -f /etc/voss/token
check "rpm -e keeps the logs" test -f /var/log/voss/keeper.log
check "rpm -e keeps the data" test -f /var/lib/voss/metadata.sqlite
echo "fails=$fails"
echo $fails > $out/fails
systemctl poweroff --no-block
INSIDE
chmod +x "$work/share/inside.sh"
cat > "$work/merged/etc/systemd/system/voss-e2e.service" <<'UNIT'
[Unit]
Description=VOSS systemd end-to-end checks
After=multi-user.target
[Service]
Type=oneshot
ExecStart=/e2e/inside.sh
UNIT
cat > "$work/merged/etc/systemd/system/voss-e2e.target" <<'UNIT'
[Unit]
Description=VOSS systemd end-to-end checks
Requires=multi-user.target voss-e2e.service
After=multi-user.target
UNIT

# --private-network: the container has its own loopback, so 443/80/5198 never clash with the host.
timeout 300 systemd-nspawn -q --keep-unit --register=no --link-journal=no --private-network -D "$work/merged" \
  --bind="$work/share:/e2e" -b systemd.unit=voss-e2e.target > "$work/console.txt" 2>&1
rc=$?
cat "$work/share/out/log.txt" 2>/dev/null | grep -E "^(PASS|FAIL)|back after"
if [ ! -f "$work/share/out/fails" ]; then
  echo "systemd-e2e: the container did not run the checks (nspawn exit $rc):"
  tail -20 "$work/console.txt"
  grep -q "Failed to create\|not supported\|Operation not permitted" "$work/console.txt" && ! grep -q "Welcome to" "$work/console.txt" && exit 77
  exit 1
fi
fails=$(cat "$work/share/out/fails")
[ "$fails" = 0 ] && { echo "systemd-e2e: all checks passed"; exit 0; }
echo "systemd-e2e: $fails check(s) failed; full log:"
cat "$work/share/out/log.txt"
exit 1
