"""The keeper supervising real workers: readiness, restarts, hangs, no orphans, systemd protocol."""
import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from voss_harness import BIN, ROOT, TEST_WORKER, free_port, http_get, http_status, pid_alive, wait_for


def test_ready_is_sent_only_after_every_worker_is_ready(make_keeper):
    k = make_keeper(extra_workers=[TEST_WORKER])
    body = k.wait_ready()
    assert {w["name"]: w["state"] for w in body["workers"]} == {"i18n": "running", "test": "running"}
    assert all(w["health"] == "healthy" for w in body["workers"])
    lines = wait_for(lambda: "READY=1" in k.notify.lines() and k.notify.lines(), 5, what="READY=1")
    ready_at = lines.index("READY=1")
    # A STATUS line a person can read came before, saying what it waits for.
    assert any(l.startswith("STATUS=starting:") for l in lines[:ready_at])
    assert lines[ready_at + 1] == "STATUS=ready: 2/2 workers running (i18n, test)"
    assert lines.count("READY=1") == 1


def test_kill9_of_i18n_answers_again_within_a_second_and_show_says_why(make_keeper):
    k = make_keeper()
    k.wait_ready()
    pid = k.worker("i18n")["pid"]
    os.kill(pid, signal.SIGKILL)
    # How fast is measured by `make bench` (median/p95); here: it comes back, on the same port.
    wait_for(lambda: http_status(k.i18n_port, "/health", timeout=2) == 200, 10, what="i18n back")
    w = wait_for(lambda: (w := k.worker("i18n"))["state"] == "running" and w, 5)
    assert w["pid"] != pid
    assert w["restarts"] == 1
    assert w["lastExit"] == "killed by SIGKILL"
    r = k.ose("service", "show", check=True)
    assert "killed by SIGKILL" in r.stdout


def test_the_port_never_closes_while_a_worker_restarts(make_keeper):
    k = make_keeper(extra_workers=[TEST_WORKER])
    k.wait_ready()
    for _ in range(5):
        pid = k.worker("test")["pid"]
        os.kill(pid, signal.SIGKILL)
        # Immediately connect: the keeper holds the listening socket, so the connection is queued
        # (never refused) and served by the replacement.
        s = socket.create_connection(("127.0.0.1", k.test_port), timeout=5)
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        s.settimeout(5)
        data = b""
        while chunk := s.recv(4096):
            data += chunk
        s.close()
        assert data.startswith(b"HTTP/1.1 200"), data
        assert str(pid).encode() not in data
        wait_for(lambda: k.worker("test")["state"] == "running", 5)
        time.sleep(1.1)  # stay clear of the one-second start floor


def test_sigstop_worker_is_replaced_within_five_seconds(make_keeper):
    k = make_keeper(extra_workers=[TEST_WORKER])
    k.wait_ready()
    pid = k.worker("test")["pid"]
    os.kill(pid, signal.SIGSTOP)
    # The policy (3 missed 1 s pings) is what bounds it; `make bench` measures the time.
    w = wait_for(lambda: (w := k.worker("test"))["pid"] not in (None, pid) and w["state"] == "running" and w, 15,
                 interval=0.05, what="replacement")
    assert w["lastExit"].startswith("hung: 3 pings unanswered")
    assert not pid_alive(pid)
    assert http_get(k.test_port, "/health")[0] == 200


def test_a_wedged_event_loop_is_detected_like_a_stopped_process(make_keeper):
    k = make_keeper(extra_workers=[TEST_WORKER])
    k.wait_ready()
    pid = k.worker("test")["pid"]
    try:
        http_get(k.test_port, "/hang", timeout=0.5)
    except Exception:
        pass
    wait_for(lambda: (w := k.worker("test"))["pid"] not in (None, pid) and w["state"] == "running", 8, interval=0.05)
    assert "hung" in k.worker("test")["lastExit"]


def test_kill9_of_the_keeper_leaves_no_worker_running(make_keeper):
    k = make_keeper(extra_workers=[TEST_WORKER])
    body = k.wait_ready()
    pids = [w["pid"] for w in body["workers"]]
    k.proc.kill()
    k.proc.wait()
    wait_for(lambda: not any(pid_alive(p) for p in pids), 2, what="workers gone")


def test_sigterm_stops_workers_in_order_and_says_stopping(make_keeper):
    k = make_keeper(extra_workers=[TEST_WORKER])
    body = k.wait_ready()
    pids = [w["pid"] for w in body["workers"]]
    assert k.stop(signal.SIGTERM) == 0
    assert not any(pid_alive(p) for p in pids)
    assert any(l == "STOPPING=1" for l in k.notify.lines())
    assert not os.path.exists(os.path.join(k.dir, "run", "i18n.sock"))
    log = open(os.path.join(k.dir, "log", "keeper.log")).read()
    # Reverse start order: the test worker (started last) stops first.
    assert log.index("worker=test") < log.rindex("stopped on request")


def test_crash_loop_gives_up_and_reports_degraded(make_keeper):
    k = make_keeper(extra_workers=[dict(TEST_WORKER, arguments=["--fail-start"])])
    k.ose("args", "set", "--k", "worker.restart.max", "--v", "2", check=True)
    w = wait_for(lambda: (w := k.worker("test"))["state"] == "FAILED" and w, 20, interval=0.1, what="FAILED")
    assert w["lastExit"] == "exited with status 1"
    body = k.service()
    assert body["state"] == "degraded"
    assert any(l.startswith("STATUS=degraded:") and "test FAILED" in l for l in k.notify.lines())
    # No hammering: it stays down.
    restarts = w["restarts"]
    time.sleep(2)
    assert k.worker("test")["restarts"] == restarts
    r = k.ose("service", "show")
    assert "FAILED" in r.stdout
    # While FAILED its port refuses at once instead of queueing clients that would hang (issue 11).
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", k.test_port), timeout=2).close()
    assert "not accepting connections while the worker is FAILED" in open(os.path.join(k.dir, "log", "keeper.log")).read()
    # Started again, it accepts again (the keeper listens before it spawns the worker).
    k.ose("service", "restart", "--worker", "test", "--no-wait", check=True)
    socket.create_connection(("127.0.0.1", k.test_port), timeout=2).close()


def test_hung_on_start_is_killed_after_the_ready_timeout(make_keeper):
    k = make_keeper(extra_workers=[dict(TEST_WORKER, arguments=["--never-ready"])])
    k.ose("args", "set", "--k", "worker.ready.timeout", "--v", "1s", check=True)
    k.ose("service", "restart", "--worker", "test", "--no-wait", check=True)
    wait_for(lambda: (k.worker("test").get("lastExit") or "").startswith("not ready after 1 s"), 10, interval=0.1)


def test_watchdog_is_petted_at_half_the_interval(make_keeper):
    k = make_keeper(watchdog_usec=1_000_000)
    k.wait_ready()
    wait_for(lambda: len(k.notify.times("WATCHDOG=1")) >= 4, 5, what="watchdog pets")
    t = k.notify.times("WATCHDOG=1")
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert all(0.3 < g < 0.75 for g in gaps), gaps


def test_sighup_reloads_between_reloading_and_ready(make_keeper):
    k = make_keeper()
    k.wait_ready()
    k.proc.send_signal(signal.SIGHUP)
    lines = wait_for(lambda: "RELOADING=1" in k.notify.lines() and k.notify.lines(), 5)
    i = lines.index("RELOADING=1")
    assert lines[i + 1].startswith("MONOTONIC_USEC=")
    wait_for(lambda: k.notify.lines()[i:].count("READY=1") == 1, 5)


def test_service_stop_persists_across_keeper_restarts_and_start_brings_it_back(make_keeper):
    k = make_keeper(extra_workers=[TEST_WORKER])
    k.wait_ready()
    r = k.ose("service", "stop", check=True)
    assert "stopped" in r.stdout
    assert all(w["state"] == "stopped" for w in k.service()["workers"])
    assert k.stop() == 0
    k.start()
    wait_for(lambda: k.service()["state"] == "stopped", 10)
    time.sleep(0.5)
    assert all(w["state"] == "stopped" for w in k.service()["workers"])
    r = k.ose("service", "start", "--debug", check=True)
    assert k.service()["state"] == "ready"
    assert k.service()["logLevel"] == "debug"
    r = k.ose("--json", "service", "restart", "--worker", "test", check=True)
    assert json.loads(r.stdout)["workers"][1]["state"] == "running"


def test_wrong_or_missing_token_is_401_and_exit_code_4(make_keeper):
    k = make_keeper()
    k.wait_ready()
    status, body = k.api("GET", "/v1/service", token="0" * 64)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    bad = os.path.join(k.dir, "bad-token")
    with open(bad, "w") as f:
        f.write("nope\n")
    r = k.ose("--token-file", bad, "service", "show")
    assert r.returncode == 4
    r = k.ose("--token-file", "/nonexistent/token", "service", "show")
    assert r.returncode == 4 and "no control token" in r.stderr.lower()


def test_files_are_private_and_secrets_are_encrypted_at_rest(make_keeper):
    k = make_keeper()
    k.wait_ready()
    k.ose("cert", "gen", "--cn", "s3.example.test", "--secret", "Sup3r-Secret", check=True)
    for name in ("token", "config.json", "cluster.key"):
        mode = stat.S_IMODE(os.stat(os.path.join(k.etc, name)).st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"
    raw = open(os.path.join(k.etc, "config.json")).read()
    assert "PRIVATE KEY" not in raw and "Sup3r-Secret" not in raw
    assert "enc:v1:" in raw
    shown = k.ose("show", check=True).stdout
    assert "Sup3r-Secret" not in shown and "******" in shown
    r = k.ose("--json", "show", "--with-secret", check=True)
    secrets = {e["key"]: e["value"] for s in json.loads(r.stdout)["sections"] for e in s["entries"]}
    assert secrets["cert.secret"] == "Sup3r-Secret"
    assert secrets["cert.key"].startswith("-----BEGIN PRIVATE KEY-----")
    # And it survives a keeper restart (decrypted with the node's cluster key).
    k.stop()
    k.start()
    k.wait_ready()
    assert "Sup3r-Secret" in k.ose("cert", "show", "--with-secret", check=True).stdout


def test_a_second_keeper_on_the_same_port_fails_with_a_clear_message(make_keeper, tmp_path):
    k = make_keeper()
    k.wait_ready()
    other = tmp_path / "other"
    other.mkdir()
    r = subprocess.run([os.path.join(BIN, "voss-keeper"), "--dev", "--data-dir", str(other), "--control-port",
                        str(k.control_port), "--i18n-port", str(free_port()), "--s3-port", str(free_port()),
                        "--s3-http-port", str(free_port())],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "Cannot open the control API on 127.0.0.1:%d" % k.control_port in r.stderr, r.stderr
    r = subprocess.run([os.path.join(BIN, "voss-keeper"), "--dev", "--data-dir", str(other), "--control-port",
                        str(free_port()), "--i18n-port", str(k.i18n_port)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "worker 'i18n' on 127.0.0.1:%d" % k.i18n_port in r.stderr, r.stderr


def test_keeper_rejects_bad_options(tmp_path):
    r = subprocess.run([os.path.join(BIN, "voss-keeper"), "--dev"], capture_output=True, text=True)
    assert r.returncode == 2 and "--data-dir" in r.stderr
    r = subprocess.run([os.path.join(BIN, "voss-keeper"), "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "Unknown option --bogus" in r.stderr
    r = subprocess.run([os.path.join(BIN, "voss-keeper"), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "usage: voss-keeper" in r.stdout


def test_systemd_unit_verifies_without_output(tmp_path):
    unit = open(os.path.join(ROOT, "systemd", "voss-keeper.service")).read()
    unit = unit.replace("/usr/libexec/voss/voss-keeper", os.path.join(BIN, "voss-keeper"))
    path = tmp_path / "voss-keeper.service"
    path.write_text(unit)
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True)
    assert r.stdout + r.stderr == "", r.stdout + r.stderr
    for want in ("Type=notify", "NotifyAccess=main", "WatchdogSec=", "Restart=on-failure", "ProtectSystem=strict",
                 "NoNewPrivileges=yes", "CapabilityBoundingSet="):
        assert want in unit


def test_an_optional_listener_that_cannot_be_bound_does_not_stop_the_keeper(make_keeper):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:
        k = make_keeper(extra_workers=[dict(TEST_WORKER, listeners=[
            {"name": "http", "tcp": {"address": "127.0.0.1", "port": port}, "optional": True},
            {"name": "other", "tcp": {"address": "127.0.0.1", "port": free_port()}},
        ])])
        k.wait_ready()
        w = k.worker("test")
        assert w["state"] == "running" and len(w["listeners"]) == 1
        assert "optional listener not bound" in open(os.path.join(k.dir, "log", "keeper.log")).read()
    finally:
        blocker.close()
