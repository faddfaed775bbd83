"""Harness for VOSS integration tests: real keeper and worker processes on 127.0.0.1.

Every process a test starts is tracked by PID and killed at teardown; every port is picked free;
every keeper runs under a fake systemd notify socket that records its sd_notify datagrams.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("VOSS_BIN_DIR", os.path.join(ROOT, ".build", "debug"))


def free_port(udp=False):
    """A port free for TCP (and, with udp=True, for UDP too: gossip binds both)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not udp:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def wait_for(predicate, timeout, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def pid_alive(pid):
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class NotifySocket:
    """A stand-in for systemd's NOTIFY_SOCKET: records (monotonic time, pid, line) per assignment."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.1)
        self.events = []
        self.lock = threading.Lock()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped:
            try:
                data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", cdata[:12])[0]
            with self.lock:
                for line in data.decode().split("\n"):
                    if line:
                        self.events.append((time.monotonic(), pid, line))

    def lines(self):
        with self.lock:
            return [e[2] for e in self.events]

    def times(self, line):
        with self.lock:
            return [e[0] for e in self.events if e[2] == line]

    def close(self):
        self.stopped = True
        self.thread.join(timeout=1)
        self.sock.close()


class Keeper:
    """A voss-keeper in --dev mode under a fresh data directory, with its own ports."""

    def __init__(self, tmp, extra_workers=(), i18n=True, s3=False, watchdog_usec=None, env=None, name="itest", vip=False,
                 objects_dir=None):
        self.dir = str(tmp)
        self.name = name
        self.control_port = free_port()
        self.gossip_port = free_port(udp=True)
        self.i18n_port = free_port()
        self.test_port = free_port()
        self.s3_port = free_port()
        self.s3_http_port = free_port()
        self.etc = os.path.join(self.dir, "etc")
        os.makedirs(self.etc, exist_ok=True)
        workers = []
        if i18n:
            workers.append({
                "name": "i18n", "executable": "voss-i18n", "enabled": True, "arguments": [],
                "listeners": [
                    {"name": "http", "tcp": {"address": "127.0.0.1", "port": self.i18n_port}},
                    {"name": "unix", "unix": os.path.join(self.dir, "run", "i18n.sock")},
                ],
            })
        if s3:
            workers.append({
                "name": "s3", "executable": "voss-s3", "enabled": True, "arguments": [],
                "listeners": [
                    {"name": "https", "tcp": {"address": "127.0.0.1", "port": self.s3_port}},
                    {"name": "http", "tcp": {"address": "127.0.0.1", "port": self.s3_http_port}},
                    {"name": "admin", "unix": os.path.join(self.dir, "run", "s3-admin.sock")},
                ],
            })
        if vip:
            workers.append({"name": "vip", "executable": "voss-vip", "enabled": True, "arguments": [], "listeners": []})
        for w in extra_workers:
            w = dict(w)
            w.setdefault("listeners", [{"name": "http", "tcp": {"address": "127.0.0.1", "port": self.test_port}}])
            w.setdefault("enabled", True)
            w.setdefault("arguments", [])
            workers.append(w)
        node = {
            "formatVersion": 3, "nodeName": name, "dev": True,
            "paths": {"etc": self.etc, "lib": os.path.join(self.dir, "lib"), "log": os.path.join(self.dir, "log"),
                      "run": os.path.join(self.dir, "run"), "libexec": BIN,
                      "i18n": os.path.join(ROOT, "etc", "voss", "i18n"), "portal": os.path.join(ROOT, "portal"),
                      **({"objects": objects_dir} if objects_dir else {})},
            "control": {"address": "127.0.0.1", "port": self.control_port},
            "gossip": {"address": "127.0.0.1", "port": self.gossip_port},
            "workers": workers,
        }
        with open(os.path.join(self.etc, "node.json"), "w") as f:
            json.dump(node, f)
        self.notify = NotifySocket(os.path.join(self.dir, "notify.sock"))
        e = dict(os.environ)
        e.pop("LANG", None)
        e.pop("LC_ALL", None)
        e["NOTIFY_SOCKET"] = self.notify.path
        if env:
            e.update(env)
        self.watchdog_usec = watchdog_usec
        self.env = e
        self.proc = None
        self.seen_pids = set()
        self.start()

    def start(self):
        e = dict(self.env)
        if self.watchdog_usec:
            e["WATCHDOG_USEC"] = str(self.watchdog_usec)
        self.log = open(os.path.join(self.dir, "keeper.stderr"), "ab")
        self.proc = subprocess.Popen([os.path.join(BIN, "voss-keeper"), "--dev", "--data-dir", self.dir],
                                     env=e, stdout=self.log, stderr=self.log)
        self.seen_pids.add(self.proc.pid)
        wait_for(lambda: os.path.exists(os.path.join(self.etc, "token")) and self._control_up(), 15,
                 what="control API")

    def _control_up(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"keeper exited with {self.proc.returncode}: " + open(os.path.join(self.dir, "keeper.stderr")).read())
        try:
            socket.create_connection(("127.0.0.1", self.control_port), timeout=0.5).close()
            return True
        except OSError:
            return False

    @property
    def token(self):
        with open(os.path.join(self.etc, "token")) as f:
            return f.read().strip()

    def api(self, method, path, body=None, token=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None)
        req.add_header("Authorization", f"Bearer {token or self.token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def service(self):
        status, body = self.api("GET", "/v1/service")
        assert status == 200, body
        for w in body["workers"]:
            if w.get("pid"):
                self.seen_pids.add(w["pid"])
        return body

    def worker(self, name):
        """A worker's entry; optional fields the API omits while unset (pid, lastExit, …) read as None."""
        w = next(w for w in self.service()["workers"] if w["name"] == name)
        return {"pid": None, "lastExit": None, "lastExitAt": None, "uptimeSeconds": None, "status": None, **w}

    def wait_ready(self, timeout=20):
        return wait_for(lambda: self.service()["state"] == "ready" and self.service(), timeout, what="service ready")

    def ose(self, *args, env=None, input=None, check=False):
        e = dict(os.environ)
        e.pop("LANG", None)
        e.pop("LC_ALL", None)
        e["VOSS_HOME"] = self.dir
        if env:
            e.update(env)
        r = subprocess.run([os.path.join(BIN, "ose"), *args], env=e, capture_output=True, text=True,
                           input=input, timeout=120)
        if check:
            assert r.returncode == 0, f"ose {' '.join(args)} -> {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        self.stop(signal.SIGKILL if self.proc and self.proc.poll() is None else signal.SIGTERM, timeout=5)
        for pid in self.seen_pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.notify.close()
        self.log.close()


TEST_WORKER = {"name": "test", "executable": "voss-test-worker"}


def http_status(port, path, timeout=1.0):
    """The HTTP status of a GET, or None when the connection fails or times out."""
    try:
        return http_get(port, path, timeout=timeout)[0]
    except OSError:
        return None


def http_get(port, path, timeout=1.0, headers=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)
