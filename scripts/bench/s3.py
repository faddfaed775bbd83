#!/usr/bin/env python3
"""S3 data-path benchmark (`make bench`): GET and PUT of 4 KiB and 1 MiB objects through VOSS and
through nginx serving the same files (static GET with sendfile, WebDAV PUT), in the same run. wrk drives
presigned (SigV4) URLs from CPU 1 while the server runs on CPU 0. Also the gateway's RSS idle and while
streaming a 5 GiB object up and down.

VOSS makes every PUT durable before answering (4 KiB: bytes and row in one database commit, fsynced
per group; 1 MiB: the file, its rename and directory, then the row); nginx does not fsync.
Prints a table with the ratios and writes bench-results/s3.json.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import boto3
import requests
from botocore.config import Config

KiB, MiB, GiB = 1024, 1024 * 1024, 1024 * 1024 * 1024
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG_PASSWORD = "Voss-bench-pw1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not listening")


def wrk(url, seconds, connections, method="GET", body_size=0, tmp="/tmp"):
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if method != "GET":
        script = os.path.join(tmp, f"put{body_size}.lua")
        with open(script, "w") as f:
            f.write(f'wrk.method = "PUT"\nwrk.body = string.rep("v", {body_size})\n')
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label):
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", out)
        if not m:
            return None
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else (v * 1000 if unit == "s" else v)

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "seconds": seconds, "p50_ms": ms("50"), "p99_ms": ms("99"), "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": sum(map(int, sock.groups())) if sock else 0}


def start_nginx(root, port, tmp):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
worker_cpu_affinity 01;
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    client_max_body_size 6g;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location / {{ dav_methods PUT; create_full_put_path on; }}
    }}
}}
""")
    p = subprocess.Popen(["taskset", "-c", "0", "nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p


def start_voss(bin_dir, tmp, port, extra_workers=(), before_tenant=None, cpus="0"):
    """A keeper (pinned to CPU 0) with the gateway on `port` and a tenant key; returns the keeper
    process, the key, the gateway's pid and an `ose` function. `before_tenant(ose)` runs on the
    empty system first (e.g. to move its metadata to PostgreSQL)."""
    d = os.path.join(tmp, "voss")
    etc = os.path.join(d, "etc")
    os.makedirs(etc)
    control = free_port()
    node = {"formatVersion": 3, "nodeName": "bench", "dev": True,
            "paths": {"etc": etc, "lib": d + "/lib", "log": d + "/log", "run": d + "/run", "libexec": bin_dir},
            "control": {"address": "127.0.0.1", "port": control},
            "gossip": {"address": "127.0.0.1", "port": free_port()},
            "workers": [{"name": "s3", "executable": "voss-s3", "enabled": True, "arguments": [], "listeners": [
                {"name": "http", "tcp": {"address": "127.0.0.1", "port": port}},
                {"name": "admin", "unix": d + "/run/s3-admin.sock"}]}] + list(extra_workers)}
    json.dump(node, open(os.path.join(etc, "node.json"), "w"))
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    # Started on its CPUs (not moved there later): the workers size their event loops by them.
    p = subprocess.Popen(["taskset", "-c", cpus, os.path.join(bin_dir, "voss-keeper"), "--dev", "--data-dir", d],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    ose_env = dict(os.environ, VOSS_HOME=d)

    def ose(*args):
        return subprocess.run([os.path.join(bin_dir, "ose"), *args], env=ose_env, capture_output=True, text=True, check=True).stdout

    if before_tenant:
        before_tenant(ose)
    ose("tenant", "create", "--name", "bench")
    ose("user", "create", "--tenant", "bench", "--name", "bench")
    key = json.loads(ose("--json", "key", "create", "--tenant", "bench", "--user", "bench"))
    svc = json.loads(ose("--json", "service", "show"))
    pid = next(w["pid"] for w in svc["workers"] if w["name"] == "s3")
    return p, key, pid, ose


def stop_servers(servers, tmp):
    """Signals each (process, signal, seconds to wait), kills what is still running, removes tmp."""
    for p, sig, _ in servers:
        p.send_signal(sig)
    for p, _, seconds in servers:
        try:
            p.wait(seconds)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def cpu_seconds(pid):
    """User + system CPU seconds of a process (all threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(pid, fn):
    """Runs `fn` (a wrk run) and adds the server's CPU microseconds per request to its result."""
    c0 = cpu_seconds(pid)
    r = fn()
    n = r["rps"] * r.get("seconds", 1)
    r["cpu_us_per_req"] = (cpu_seconds(pid) - c0) / n * 1e6 if n else None
    return r


def idle_connection_kib(pid, port, count=256):
    """RSS growth per idle keep-alive connection (each has sent one request)."""
    before = rss_kib(pid)
    socks = []
    for _ in range(count):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(c)
    for c in socks:
        c.settimeout(5)
        c.recv(65536)
    time.sleep(0.5)
    after = rss_kib(pid)
    for c in socks:
        c.close()
    return (after - before) / count


def callgrind_instructions(bin_dir, tmp, n=200):
    """Instructions per 4 KiB GET and PUT, counted by valgrind's callgrind in the gateway (all its
    threads), over `n` sequential keep-alive requests after a warm-up: a figure that does not move with
    the load of a shared machine. The worker runs under valgrind through a wrapper in a private
    libexec directory; valgrind 3.19 cannot read the DWARF 5 Swift emits, so it runs a copy without
    debug information (symbols stay)."""
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        return None
    d = os.path.join(tmp, "cg")
    libexec, plain = os.path.join(d, "libexec"), os.path.join(d, "plain")
    os.makedirs(libexec)
    os.makedirs(plain)
    real = os.path.realpath(os.path.join(bin_dir, "voss"))
    for name in ("voss", "voss-keeper", "ose", "voss-i18n", "voss-vip"):
        if os.path.exists(os.path.join(bin_dir, name)):
            os.symlink(real, os.path.join(libexec, name))
    subprocess.run(["strip", "-g", "-o", os.path.join(plain, "voss-s3"), real], check=True)
    out = os.path.join(d, "callgrind.out")
    with open(os.path.join(libexec, "voss-s3"), "w") as f:
        f.write(f'#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file={out} {plain}/voss-s3 "$@"\n')
    os.chmod(os.path.join(libexec, "voss-s3"), 0o755)
    port = free_port()
    keeper, key, pid, _ = start_voss(libexec, d, port)
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key["accessKey"],
                          aws_secret_access_key=key["secret"], region_name="us-east-1", config=Config(signature_version="s3v4"))
        s3.create_bucket(Bucket="cgbench")
        s3.put_object(Bucket="cgbench", Key="4KiB", Body=os.urandom(4 * KiB))
        session = requests.Session()
        body = os.urandom(4 * KiB)
        result = {}
        for op in ("GET", "PUT"):
            urls = [s3.generate_presigned_url("get_object" if op == "GET" else "put_object",
                                              Params={"Bucket": "cgbench", "Key": "4KiB" if op == "GET" else f"p{i}"}, ExpiresIn=3600)
                    for i in range(n + 20)]
            call = (lambda u: session.get(u)) if op == "GET" else (lambda u: session.put(u, data=body))
            for u in urls[:20]:
                call(u)
            subprocess.run(["callgrind_control", "--zero", str(pid)], capture_output=True, check=True)
            for u in urls[20:]:
                r = call(u)
                assert r.status_code == 200, (op, r.status_code, r.text[:300])
            before = set(glob.glob(out + "*"))
            subprocess.run(["callgrind_control", f"--dump={op}", str(pid)], capture_output=True, check=True)
            deadline = time.time() + 30
            while time.time() < deadline and not (set(glob.glob(out + "*")) - before):
                time.sleep(0.2)
            text = open(sorted(set(glob.glob(out + "*")) - before)[0]).read()
            m = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            result[op] = int(m.group(1)) / n
        return result
    finally:
        stop_servers([(keeper, signal.SIGTERM, 30)], d)


def postgres_get(bin_dir, seconds, connections):
    """wrk GET of a 4 KiB object with the metadata on a real PostgreSQL (initdb in a temp dir, pinned
    to CPU 0 with the gateway, as the SQLite runs are): the PostgreSQL-vs-SQLite ratio of the issue."""
    sys.path.insert(0, os.path.join(ROOT, "Tests"))
    from pg_harness import Postgres
    pg = Postgres().init().start()
    tmp = tempfile.mkdtemp(prefix="voss-s3-bench-pg-")
    voss = None
    try:
        pg.create_database("voss", "voss", PG_PASSWORD)
        with open(os.path.join(pg.data, "postmaster.pid")) as f:
            subprocess.run(["taskset", "-a", "-p", "-c", "0", f.readline().strip()], capture_output=True, check=True)

        def use_postgres(ose):
            ose("db", "set", "--url", f"jdbc:postgresql://127.0.0.1:{pg.port}/voss", "--user", "voss", "--secret", PG_PASSWORD)
            deadline = time.time() + 60
            while time.time() < deadline:
                w = next(w for w in json.loads(ose("--json", "service", "show"))["workers"] if w["name"] == "s3")
                if "postgres" in (w.get("status") or "") and w.get("state") == "running":
                    return
                time.sleep(0.3)
            raise RuntimeError("the gateway did not move to PostgreSQL")

        port = free_port()
        voss, key, pid, _ = start_voss(bin_dir, tmp, port, before_tenant=use_postgres)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key["accessKey"],
                          aws_secret_access_key=key["secret"], region_name="us-east-1", config=Config(signature_version="s3v4"))
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="4KiB", Body=os.urandom(4 * KiB))
        url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "4KiB"}, ExpiresIn=86400)
        return measured(pid, lambda: wrk(url, seconds, connections, "GET", 0, tmp))
    finally:
        if voss:
            stop_servers([(voss, signal.SIGTERM, 30)], tmp)
        pg.cleanup()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


class Zeros:
    """`size` zero bytes as a file with a length (requests then sends Content-Length, not chunked)."""

    def __init__(self, size):
        self.left = self.size = size

    def __len__(self):
        return self.size

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return b"\0" * n


def stream_5gib(s3, bucket, pid, size, with_length=False, key="huge"):
    """RSS of the gateway (`pid`; None: not sampled) while a `size`-byte object goes up (chunked, unknown
    length; or with its length) and down."""
    samples = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(rss_kib(pid) if pid else 0)
            time.sleep(0.1)

    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
    block = b"\0" * MiB

    def body():
        for _ in range(size // MiB):
            yield block

    t = threading.Thread(target=sample)
    t.start()
    t0 = time.time()
    r = requests.put(put_url, data=Zeros(size) if with_length else body())
    up = time.time() - t0
    assert r.status_code == 200, r.text
    up_max = max(samples)
    samples.clear()
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=3600)
    t0 = time.time()
    got = 0
    with requests.get(get_url, stream=True) as r:
        for chunk in r.iter_content(4 * MiB):
            got += len(chunk)
    down = time.time() - t0
    stop.set()
    t.join()
    assert got == size
    s3.delete_object(Bucket=bucket, Key=key)
    return {"put_max_rss_kib": up_max, "get_max_rss_kib": max(samples), "put_mb_s": size / MiB / up, "get_mb_s": size / MiB / down}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--stream-gib", type=float, default=5)
    ap.add_argument("--no-callgrind", dest="callgrind", action="store_false", help="skip the instruction counts")
    a = ap.parse_args()
    if not shutil.which("wrk") or not shutil.which("nginx"):
        sys.exit("wrk and nginx are needed (scripts/deps.sh bench)")
    tmp = tempfile.mkdtemp(prefix="voss-s3-bench-")
    root = os.path.join(tmp, "www")
    os.makedirs(root)
    objects = {"4KiB": os.urandom(4 * KiB), "1MiB": os.urandom(MiB)}
    for name, data in objects.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    ng_port, voss_port = free_port(), free_port()
    nginx = start_nginx(root, ng_port, tmp)
    voss, key, s3pid, _ = start_voss(os.path.abspath(a.bin), tmp, voss_port)
    results = {"config": {"seconds": a.seconds, "connections": a.connections, "server_cpu": 0, "client_cpu": 1}, "runs": []}
    try:
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{voss_port}", aws_access_key_id=key["accessKey"],
                          aws_secret_access_key=key["secret"], region_name="us-east-1",
                          config=Config(signature_version="s3v4"))
        s3.create_bucket(Bucket="bench")
        for name, data in objects.items():
            s3.put_object(Bucket="bench", Key=name, Body=data)
        time.sleep(1)
        results["idle_rss_kib"] = rss_kib(s3pid)
        results["idle_connection_kib"] = idle_connection_kib(s3pid, voss_port)
        for name, data in objects.items():
            size = len(data)
            get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": name}, ExpiresIn=86400)
            put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench", "Key": "put" + name}, ExpiresIn=86400)
            for op, vurl, nurl in (("GET", get_url, f"http://127.0.0.1:{ng_port}/{name}"),
                                   ("PUT", put_url, f"http://127.0.0.1:{ng_port}/put{name}")):
                v = measured(s3pid, lambda: wrk(vurl, a.seconds, a.connections, op, size, tmp))
                n = measured(nginx.pid, lambda: wrk(nurl, a.seconds, a.connections, op, size, tmp))
                results["runs"].append({"op": op, "size": name, "voss": v, "nginx": n, "ratio": v["rps"] / n["rps"],
                                        "voss_mb_s": v["rps"] * size / MiB, "nginx_mb_s": n["rps"] * size / MiB})
        # Scaling of the 4 KiB GET with the number of connections, and with the gateway on both CPUs
        # (wrk stays on CPU 1, so it shares one of them), against nginx on one CPU in the same run.
        get4 = s3.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "4KiB"}, ExpiresIn=86400)
        results["scaling"] = []
        for conns in (1, 16, 64, 256):
            v = measured(s3pid, lambda: wrk(get4, a.seconds, conns, "GET", 0, tmp))
            n = measured(nginx.pid, lambda: wrk(f"http://127.0.0.1:{ng_port}/4KiB", a.seconds, conns, "GET", 0, tmp))
            results["scaling"].append({"connections": conns, "cpus": 1, "voss": v, "nginx": n, "ratio": v["rps"] / n["rps"]})
        # A second gateway started on both CPUs (two event loops; wrk shares CPU 1 with one of them).
        tmp2 = tempfile.mkdtemp(prefix="voss-s3-bench-2cpu-")
        port2 = free_port()
        voss2, key2, pid2, _ = start_voss(os.path.abspath(a.bin), tmp2, port2, cpus="0,1")
        try:
            s3b = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port2}", aws_access_key_id=key2["accessKey"],
                               aws_secret_access_key=key2["secret"], region_name="us-east-1", config=Config(signature_version="s3v4"))
            s3b.create_bucket(Bucket="bench")
            s3b.put_object(Bucket="bench", Key="4KiB", Body=objects["4KiB"])
            get4b = s3b.generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": "4KiB"}, ExpiresIn=86400)
            for conns in (16, 256):
                v = measured(pid2, lambda: wrk(get4b, a.seconds, conns, "GET", 0, tmp))
                results["scaling"].append({"connections": conns, "cpus": 2, "voss": v})
        finally:
            stop_servers([(voss2, signal.SIGTERM, 30)], tmp2)
        # The same through SSE-S3 (a bucket with default encryption), against plain VOSS in this run.
        s3.create_bucket(Bucket="bench-sse")
        s3.put_bucket_encryption(Bucket="bench-sse", ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        results["sse"] = []
        for name, data in objects.items():
            s3.put_object(Bucket="bench-sse", Key=name, Body=data)
            get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench-sse", "Key": name}, ExpiresIn=86400)
            put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench-sse", "Key": "put" + name}, ExpiresIn=86400)
            for op, url in (("GET", get_url), ("PUT", put_url)):
                e = wrk(url, a.seconds, a.connections, op, len(data), tmp)
                plain = next(r["voss"] for r in results["runs"] if r["op"] == op and r["size"] == name)
                results["sse"].append({"op": op, "size": name, "sse": e, "ratio": e["rps"] / plain["rps"]})
        if a.stream_gib > 0:
            results["stream"] = stream_5gib(s3, "bench", s3pid, int(a.stream_gib * GiB))
    finally:
        stop_servers([(voss, signal.SIGTERM, 30), (nginx, signal.SIGQUIT, 10)], tmp)

    results["postgres_get"] = postgres_get(os.path.abspath(a.bin), a.seconds, a.connections)
    if a.callgrind:
        results["callgrind"] = callgrind_instructions(os.path.abspath(a.bin), tempfile.mkdtemp(prefix="voss-cg-"))

    print(f"\nS3 data path, {a.connections} connections, {a.seconds} s each; server on CPU 0, wrk on CPU 1 (same run)")
    print(f"{'op':<5}{'size':<6}{'VOSS req/s':>12}{'MB/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'nginx req/s':>13}{'MB/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'VOSS/nginx':>12}  target")
    targets = {("GET", "4KiB"): 0.5, ("PUT", "4KiB"): 0.5, ("GET", "1MiB"): 0.8, ("PUT", "1MiB"): 0.7}
    for r in results["runs"]:
        v, n = r["voss"], r["nginx"]
        t = targets.get((r["op"], r["size"]))
        mark = "" if t is None else (f">= {t} {'met' if r['ratio'] >= t else 'NOT met'}")
        print(f"{r['op']:<5}{r['size']:<6}{v['rps']:>12.0f}{r['voss_mb_s']:>9.1f}{v['p50_ms'] or 0:>8.2f}{v['p99_ms'] or 0:>8.2f}"
              f"{n['rps']:>13.0f}{r['nginx_mb_s']:>9.1f}{n['p50_ms'] or 0:>8.2f}{n['p99_ms'] or 0:>8.2f}{r['ratio']:>12.2f}  {mark}")
        print(f"      CPU per request: VOSS {v['cpu_us_per_req']:.1f} us, nginx {n['cpu_us_per_req']:.1f} us")
        if v["non2xx"] or v["socket_errors"]:
            print(f"      VOSS errors: {v['non2xx']} non-2xx, {v['socket_errors']} socket errors")
    print("PUT: VOSS makes bytes and metadata durable before answering (4 KiB: one database commit per group, decision 50;"
          " 1 MiB: file, rename, directory, row); nginx's WebDAV PUT does not fsync.")
    print("\nGET 4 KiB by connections (server CPUs; with 2, wrk shares CPU 1):")
    for r in results.get("scaling", []):
        v = r["voss"]
        line = f"  {r['connections']:>4} conns, {r['cpus']} CPU: VOSS {v['rps']:>8.0f} req/s, {v['cpu_us_per_req']:.1f} us CPU/req, p99 {v['p99_ms'] or 0:.2f} ms"
        if "nginx" in r:
            line += f"; nginx {r['nginx']['rps']:>8.0f} req/s; ratio {r['ratio']:.2f}"
        print(line)
    if "postgres_get" in results:
        pgr = results["postgres_get"]
        sqlite = next(r["voss"] for r in results["runs"] if r["op"] == "GET" and r["size"] == "4KiB")
        ratio = pgr["rps"] / sqlite["rps"]
        print(f"GET 4 KiB with the metadata on PostgreSQL: {pgr['rps']:.0f} req/s, {pgr['cpu_us_per_req']:.1f} us gateway CPU/req "
              f"(PostgreSQL's own CPU not counted); PostgreSQL/SQLite {ratio:.2f} (target >= 0.8 {'met' if ratio >= 0.8 else 'NOT met'})")
    if "idle_connection_kib" in results:
        print(f"Memory per idle keep-alive connection: {results['idle_connection_kib']:.1f} KiB")
    if results.get("callgrind"):
        cg = results["callgrind"]
        print(f"Instructions per request (callgrind, gateway, all threads): GET 4 KiB {cg['GET']:,.0f}; PUT 4 KiB {cg['PUT']:,.0f}")
    print("\nSSE-S3 (AES-256-CTR as the bytes stream; no sendfile) against plain VOSS, same run:")
    for r in results.get("sse", []):
        print(f"{r['op']:<5}{r['size']:<6}{r['sse']['rps']:>12.0f} req/s  SSE/plain {r['ratio']:.2f}")
    idle = results["idle_rss_kib"] / 1024
    print(f"\nGateway RSS idle: {idle:.1f} MiB (target < 64 MiB)")
    if "stream" in results:
        s = results["stream"]
        up, down = s["put_max_rss_kib"] / 1024 - idle, s["get_max_rss_kib"] / 1024 - idle
        print(f"Streaming {a.stream_gib:g} GiB: PUT {s['put_mb_s']:.0f} MB/s, RSS growth {up:.1f} MiB; "
              f"GET {s['get_mb_s']:.0f} MB/s, RSS growth {down:.1f} MiB (target < 32 MiB)")
    os.makedirs("bench-results", exist_ok=True)
    json.dump(results, open("bench-results/s3.json", "w"), indent=2)
    print("(bench-results/s3.json)")


if __name__ == "__main__":
    main()
