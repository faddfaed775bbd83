#!/usr/bin/env python3
"""Supervision benchmark (`make bench`): kill -9 a worker N times under a steady request load and
measure how long until it serves again and how many client connections fail meanwhile — for the
VOSS keeper and, in the same run, for runit supervising the same worker binary (which then binds its
own port, as a runit service does). Also SIGSTOP: how long until a hung worker is replaced.

Prints a table and writes bench-results/supervise.json.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path="/health", timeout=2.0):
    """One request on a new connection. Returns (status, body) or raises OSError."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.settimeout(timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        raise ConnectionResetError("no HTTP response")
    return int(head.split()[1]), body


def worker_pid(port):
    for _ in range(500):
        try:
            status, body = get(port)
            if status == 200:
                return int(body.split()[1])
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError("worker does not answer")


class Load:
    """Clients that loop on new-connection GETs and classify every failure."""

    def __init__(self, port, clients):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {"ok": 0, "refused": 0, "reset": 0, "timeout": 0, "other": 0}
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(clients)]

    def run(self):
        while not self.stop.is_set():
            try:
                status, _ = get(self.port, timeout=5)
                kind = "ok" if status == 200 else "other"
            except ConnectionRefusedError:
                kind = "refused"
                time.sleep(0.001)
            except (ConnectionResetError, BrokenPipeError):
                kind = "reset"
            except socket.timeout:
                kind = "timeout"
            except OSError:
                kind = "other"
            with self.lock:
                self.counts[kind] += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)


def time_until_new_pid(port, old_pid, limit):
    """Poll with new connections until a worker other than old_pid answers; seconds from now."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        try:
            status, body = get(port, timeout=limit)
            if status == 200 and int(body.split()[1]) != old_pid:
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.0005)
    return None


def kill_rounds(port, rounds, spacing, sig, limit):
    times = []
    for _ in range(rounds):
        pid = worker_pid(port)
        os.kill(pid, sig)
        t = time_until_new_pid(port, pid, limit)
        if t is None:
            try:
                os.kill(pid, signal.SIGKILL)  # a stopped worker nobody replaced
            except ProcessLookupError:
                pass
        times.append(t)
        time.sleep(spacing)
    return times


def summarize(name, kind, times, counts):
    done = [t for t in times if t is not None]
    row = {"supervisor": name, "event": kind, "rounds": len(times), "replaced": len(done),
           "median_ms": round(statistics.median(done) * 1000, 1) if done else None,
           "p95_ms": round(sorted(done)[max(0, int(len(done) * 0.95) - 1)] * 1000, 1) if done else None,
           "max_ms": round(max(done) * 1000, 1) if done else None, **counts}
    return row


def bench_keeper(bin_dir, rounds, clients, spacing, stops):
    d = tempfile.mkdtemp(prefix="voss-bench-")
    port, control = free_port(), free_port()
    etc = os.path.join(d, "etc")
    os.makedirs(etc)
    node = {"formatVersion": 3, "nodeName": "bench", "dev": True,
            "paths": {"etc": etc, "lib": d + "/lib", "log": d + "/log", "run": d + "/run", "libexec": bin_dir},
            "control": {"address": "127.0.0.1", "port": control},
            "workers": [{"name": "test", "executable": "voss-test-worker", "enabled": True, "arguments": [],
                         "listeners": [{"name": "http", "tcp": {"address": "127.0.0.1", "port": port}}]}]}
    json.dump(node, open(os.path.join(etc, "node.json"), "w"))
    keeper = subprocess.Popen([os.path.join(bin_dir, "voss-keeper"), "--dev", "--data-dir", d],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        worker_pid(port)
        env = dict(os.environ, VOSS_HOME=d)
        subprocess.run([os.path.join(bin_dir, "ose"), "args", "set", "--k", "worker.restart.max", "--v", "100000"],
                       env=env, check=True, capture_output=True)
        rows = []
        with Load(port, clients) as load:
            times = kill_rounds(port, rounds, spacing, signal.SIGKILL, 10)
        rows.append(summarize("voss-keeper", "kill -9", times, load.counts))
        with Load(port, clients) as load:
            times = kill_rounds(port, stops, spacing, signal.SIGSTOP, 15)
        rows.append(summarize("voss-keeper", "SIGSTOP", times, load.counts))
        return rows
    finally:
        keeper.send_signal(signal.SIGTERM)
        try:
            keeper.wait(timeout=20)
        except subprocess.TimeoutExpired:
            keeper.kill()
        shutil.rmtree(d, ignore_errors=True)


def bench_runit(bin_dir, rounds, clients, spacing, stops):
    runsv = shutil.which("runsv")
    if not runsv:
        return [{"supervisor": "runit", "event": "kill -9", "error": "runsv not installed"}]
    d = tempfile.mkdtemp(prefix="runit-bench-")
    port = free_port()
    svc = os.path.join(d, "test")
    os.makedirs(svc)
    with open(os.path.join(svc, "run"), "w") as f:
        f.write(f"#!/bin/sh\nexec {os.path.join(bin_dir, 'voss-test-worker')} --listen http=127.0.0.1:{port} 2>/dev/null\n")
    os.chmod(os.path.join(svc, "run"), 0o755)
    sv = subprocess.Popen([runsv, svc], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        worker_pid(port)
        rows = []
        with Load(port, clients) as load:
            times = kill_rounds(port, rounds, spacing, signal.SIGKILL, 10)
        rows.append(summarize("runit", "kill -9", times, load.counts))
        with Load(port, clients) as load:
            times = kill_rounds(port, stops, spacing, signal.SIGSTOP, 10)
        rows.append(summarize("runit", "SIGSTOP", times, load.counts))
        return rows
    finally:
        subprocess.run(["sv", "down", svc], capture_output=True) if shutil.which("sv") else None
        sv.terminate()
        try:
            sv.wait(timeout=5)
        except subprocess.TimeoutExpired:
            sv.kill()
        subprocess.run(["pkill", "-f", f"voss-test-worker --listen http=127.0.0.1:{port}"], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", required=True, help="directory with voss-keeper, ose, voss-test-worker")
    p.add_argument("--rounds", type=int, default=50)
    p.add_argument("--stops", type=int, default=5)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--spacing", type=float, default=1.2, help="seconds between kills (both supervisors keep starts >= 1 s apart)")
    a = p.parse_args()
    bin_dir = os.path.abspath(a.bin)
    rows = bench_keeper(bin_dir, a.rounds, a.clients, a.spacing, a.stops)
    rows += bench_runit(bin_dir, a.rounds, a.clients, a.spacing, a.stops)
    cols = ["supervisor", "event", "rounds", "replaced", "median_ms", "p95_ms", "max_ms", "ok", "refused", "reset",
            "timeout", "other"]
    print("\nSupervision under load: %d clients, new connection per request, kills %.1f s apart" % (a.clients, a.spacing))
    widths = [max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(w) for c, w in zip(cols, widths)))
    k = next((r for r in rows if r["supervisor"] == "voss-keeper" and r["event"] == "kill -9"), None)
    ru = next((r for r in rows if r["supervisor"] == "runit" and r["event"] == "kill -9" and r.get("median_ms")), None)
    if k and ru:
        print(f"\nkill -9: time to serve again, keeper/runit = {k['median_ms'] / ru['median_ms']:.2f} (median), "
              f"refused connections: keeper {k['refused']} vs runit {ru['refused']}, resets: {k['reset']} vs {ru['reset']}")
    os.makedirs("bench-results", exist_ok=True)
    json.dump(rows, open("bench-results/supervise.json", "w"), indent=2)
    print("(bench-results/supervise.json)")


if __name__ == "__main__":
    sys.exit(main())
