#!/usr/bin/env python3
"""Virtual-IP translator benchmark (`make bench`): GET of 4 KiB and 1 MiB objects from one S3 gateway
directly, through the VOSS translator (`voss-vip`), and through haproxy in TCP mode in front of the
same gateway, in the same run. Servers (keeper, gateway, translator, haproxy) on CPU 0, wrk on CPU 1.

Reference on this machine class (from the issue): haproxy-tcp reaches 0.69x of direct nginx for 4 KiB
GETs and 0.34x for 1 MiB. Target: VIP >= haproxy-tcp.

Prints a table and writes bench-results/vip.json.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3 as s3bench  # noqa: E402
from s3 import KiB, MiB, free_port, wait_port, wrk  # noqa: E402


def start_voss(bin_dir, tmp, s3_port, vip_port):
    p, key, _, ose = s3bench.start_voss(
        bin_dir, tmp, s3_port, extra_workers=[{"name": "vip", "executable": "voss-vip", "enabled": True, "arguments": [], "listeners": []}])
    ose("vip", "set", "--address", "127.0.0.1", "--port", str(vip_port), "--target", "http")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = next((w.get("status") or "" for w in json.loads(ose("--json", "service", "show"))["workers"] if w["name"] == "vip"), "")
        if "1 backends" in status:
            break
        time.sleep(0.2)
    else:
        raise RuntimeError("the translator did not get its backend")
    return p, key


def start_haproxy(tmp, port, backend_port):
    conf = os.path.join(tmp, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
    maxconn 4096
    nbthread 1
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
frontend front
    bind 127.0.0.1:{port}
    default_backend gateways
backend gateways
    server s1 127.0.0.1:{backend_port}
""")
    p = subprocess.Popen(["taskset", "-c", "0", "haproxy", "-f", conf, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--out", default="bench-results/vip.json")
    a = ap.parse_args()
    for tool in ("wrk", "haproxy", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (scripts/deps.sh bench)")
    tmp = tempfile.mkdtemp(prefix="voss-vip-bench-")
    s3_port, vip_port, ha_port = free_port(), free_port(), free_port()
    voss, key = start_voss(os.path.abspath(a.bin), tmp, s3_port, vip_port)
    haproxy = start_haproxy(tmp, ha_port, s3_port)
    objects = {"4KiB": os.urandom(4 * KiB), "1MiB": os.urandom(MiB)}
    runs = []
    try:
        def client(port):
            return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key["accessKey"],
                                aws_secret_access_key=key["secret"], region_name="us-east-1",
                                config=Config(signature_version="s3v4"))
        direct = client(s3_port)
        direct.create_bucket(Bucket="bench")
        for name, data in objects.items():
            direct.put_object(Bucket="bench", Key=name, Body=data)
        for name, data in objects.items():
            row = {"size": name}
            for label, port in (("direct", s3_port), ("vip", vip_port), ("haproxy", ha_port)):
                # Presigned for the address the client uses (the host is part of the signature).
                url = client(port).generate_presigned_url("get_object", Params={"Bucket": "bench", "Key": name}, ExpiresIn=86400)
                r = wrk(url, a.seconds, a.connections, "GET", 0, tmp)
                r["mb_s"] = r["rps"] * len(data) / MiB
                row[label] = r
            row["vip_vs_direct"] = row["vip"]["rps"] / row["direct"]["rps"]
            row["haproxy_vs_direct"] = row["haproxy"]["rps"] / row["direct"]["rps"]
            row["vip_vs_haproxy"] = row["vip"]["rps"] / row["haproxy"]["rps"]
            runs.append(row)
    finally:
        s3bench.stop_servers([(voss, signal.SIGTERM, 30), (haproxy, signal.SIGTERM, 10)], tmp)

    print(f"\nVirtual-IP translator, GET, {a.connections} connections, {a.seconds} s each; servers on CPU 0, wrk on CPU 1")
    hdr = f"{'size':>5} {'path':>8} {'req/s':>9} {'MB/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
    print(hdr)
    print("-" * len(hdr))
    for row in runs:
        for label in ("direct", "vip", "haproxy"):
            r = row[label]
            print(f"{row['size']:>5} {label:>8} {r['rps']:>9.0f} {r['mb_s']:>8.1f} {r['p50_ms'] or 0:>7.2f} {r['p99_ms'] or 0:>7.2f} "
                  f"{r['non2xx'] + r['socket_errors']:>6}")
    print()
    for row in runs:
        print(f"{row['size']}: VIP/direct {row['vip_vs_direct']:.2f}x, haproxy-tcp/direct {row['haproxy_vs_direct']:.2f}x, "
              f"VIP/haproxy-tcp {row['vip_vs_haproxy']:.2f}x (target >= 1.0)")
    print("(reference, issue: haproxy-tcp 0.69x of direct nginx for 4 KiB, 0.34x for 1 MiB)")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"config": {"seconds": a.seconds, "connections": a.connections}, "runs": runs}, f, indent=2)


if __name__ == "__main__":
    main()
