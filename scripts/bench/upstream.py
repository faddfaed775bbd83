#!/usr/bin/env python3
"""Storage-platform benchmark (`make bench`): GET and PUT of 4 KiB and 1 MiB objects through VOSS with
its bucket on a real Ceph RGW (the `s3` platform), and directly on the same RGW, in the same run — wrk
with presigned (SigV4) URLs from CPU 1, the VOSS gateway on CPU 0 (RGW runs where the kernel puts it).
Also the gateway's RSS and throughput while a 5 GiB object streams through it to RGW and back.

The ratio VOSS/RGW is what VOSS costs in front of the store (targets: >= 0.9 at 1 MiB, >= 0.8 at 4 KiB).
Prints a table and writes bench-results/upstream.json.
"""
import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "Tests"))
import s3 as s3bench  # noqa: E402
from ceph_harness import RGW  # noqa: E402

KiB, MiB, GiB = 1024, 1024 * 1024, 1024 * 1024 * 1024


def cpu_seconds(pids):
    """User + system CPU time of processes (and their threads), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def measured(url, a, op, size, tmp, gateway, rgw_pids):
    """wrk on `url`, with the CPU time the gateway (if any) and RGW (radosgw + OSD) spent per request."""
    g0, r0 = cpu_seconds(gateway), cpu_seconds(rgw_pids)
    w = s3bench.wrk(url, a.seconds, a.connections, op, size, tmp)
    requests = max(1, w["rps"] * a.seconds)
    w["gateway_cpu_us"] = (cpu_seconds(gateway) - g0) / requests * 1e6 if gateway else 0
    w["rgw_cpu_us"] = (cpu_seconds(rgw_pids) - r0) / requests * 1e6
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--stream-gib", type=float, default=5)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (scripts/deps.sh bench)")
    tmp = tempfile.mkdtemp(prefix="voss-platform-bench-")
    os.environ.setdefault("OSD_STORE", "bluestore")
    os.environ.setdefault("OSD_SIZE_GB", str(int(a.stream_gib) * 2 + 8))
    rgw = RGW()
    port = s3bench.free_port()
    voss, key, pid, ose = s3bench.start_voss(os.path.abspath(a.bin), tmp, port)
    results = {"config": {"seconds": a.seconds, "connections": a.connections}, "runs": []}
    try:
        ose("platforms", "s3", "set", "--name", "ceph", "--url", rgw.endpoint, "--access-key", rgw.access_key, "--secret",
            rgw.secret_key, "--region", rgw.region)
        ose("platforms", "enable", "ceph")
        time.sleep(1)
        cfg = Config(signature_version="s3v4", s3={"addressing_style": "path"})
        via = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key["accessKey"],
                           aws_secret_access_key=key["secret"], region_name="us-east-1", config=cfg)
        direct = boto3.client("s3", endpoint_url=rgw.endpoint, aws_access_key_id=rgw.access_key,
                              aws_secret_access_key=rgw.secret_key, region_name=rgw.region, config=cfg)
        via.create_bucket(Bucket="bench")
        assert via.get_bucket_location(Bucket="bench")["LocationConstraint"] == "ceph"
        direct.create_bucket(Bucket="direct-bench")
        objects = {"4KiB": os.urandom(4 * KiB), "1MiB": os.urandom(MiB)}
        for name, data in objects.items():
            via.put_object(Bucket="bench", Key=name, Body=data)
            direct.put_object(Bucket="direct-bench", Key=name, Body=data)
        for name, data in objects.items():
            size = len(data)
            for op in ("GET", "PUT"):
                method = "get_object" if op == "GET" else "put_object"
                k = name if op == "GET" else "put" + name
                vurl = via.generate_presigned_url(method, Params={"Bucket": "bench", "Key": k}, ExpiresIn=86400)
                durl = direct.generate_presigned_url(method, Params={"Bucket": "direct-bench", "Key": k}, ExpiresIn=86400)
                v = measured(vurl, a, op, size, tmp, [pid], rgw.pids())
                d = measured(durl, a, op, size, tmp, [], rgw.pids())
                results["runs"].append({"op": op, "size": name, "voss": v, "rgw": d, "ratio": v["rps"] / d["rps"] if d["rps"] else 0})
        if a.stream_gib > 0:
            size = int(a.stream_gib * GiB)
            results["idle_rss_kib"] = s3bench.rss_kib(pid)
            results["stream_voss"] = s3bench.stream_5gib(via, "bench", pid, size, with_length=True)
            results["stream_rgw"] = s3bench.stream_5gib(direct, "direct-bench", None, size, with_length=True)
    finally:
        s3bench.stop_servers([(voss, signal.SIGTERM, 30)], tmp)
        rgw.cleanup()

    print(f"\nVOSS on Ceph RGW (s3 platform) vs RGW direct, {a.connections} connections, {a.seconds} s each (same run)")
    print(f"{'op':<5}{'size':<6}{'VOSS req/s':>12}{'p50 ms':>8}{'p99 ms':>8}{'RGW req/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'VOSS/RGW':>10}  target")
    targets = {"4KiB": 0.8, "1MiB": 0.9}
    for r in results["runs"]:
        v, d, t = r["voss"], r["rgw"], targets[r["size"]]
        print(f"{r['op']:<5}{r['size']:<6}{v['rps']:>12.0f}{v['p50_ms'] or 0:>8.2f}{v['p99_ms'] or 0:>8.2f}{d['rps']:>11.0f}"
              f"{d['p50_ms'] or 0:>8.2f}{d['p99_ms'] or 0:>8.2f}{r['ratio']:>10.2f}  >= {t} {'met' if r['ratio'] >= t else 'NOT met'}")
        if v["non2xx"] or v["socket_errors"] or d["non2xx"] or d["socket_errors"]:
            print(f"      errors: VOSS {v['non2xx']} non-2xx/{v['socket_errors']} socket; RGW {d['non2xx']} non-2xx/{d['socket_errors']} socket")
    print("CPU per request (µs, from /proc): VOSS gateway + RGW behind it, vs RGW direct — on 2 cores the sum is what bounds req/s")
    for r in results["runs"]:
        v, d = r["voss"], r["rgw"]
        print(f"{r['op']:<5}{r['size']:<6} gateway {v['gateway_cpu_us']:>7.0f} + RGW {v['rgw_cpu_us']:>7.0f}   vs RGW direct {d['rgw_cpu_us']:>7.0f}")
    if "stream_voss" in results:
        s, d = results["stream_voss"], results["stream_rgw"]
        idle = results["idle_rss_kib"] / 1024
        print(f"\nStreaming {a.stream_gib:g} GiB through VOSS to RGW: PUT {s['put_mb_s']:.0f} MB/s (RGW direct {d['put_mb_s']:.0f}), "
              f"GET {s['get_mb_s']:.0f} MB/s (RGW direct {d['get_mb_s']:.0f}); gateway RSS idle {idle:.1f} MiB, "
              f"growth PUT {s['put_max_rss_kib'] / 1024 - idle:.1f} MiB, GET {s['get_max_rss_kib'] / 1024 - idle:.1f} MiB")
    os.makedirs("bench-results", exist_ok=True)
    json.dump(results, open("bench-results/upstream.json", "w"), indent=2)
    print("(bench-results/upstream.json)")


if __name__ == "__main__":
    main()
