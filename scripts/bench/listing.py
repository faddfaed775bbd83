#!/usr/bin/env python3
"""Listing at scale (`make bench`): ListObjectsV2 pages on a bucket of N objects (default 1,000,000),
through the gateway on PostgreSQL, and — the reference, in the same run — on the embedded SQLite store.

The objects are made by copying the row of one real PUT N times in SQL (a million PUTs would take an
hour and measure PUT, not listing). Keys: dirNN/subM/objIIIIIII — 100 "directories" of 10,000 keys,
each with 10 "subdirectories" of 1,000.

Workloads, each timed per request at the HTTP level (presigned URL, kept-alive connection, body read,
no XML parsing: the gateway's answer time) and, for comparison, through boto3 (parsing included):
  flat        pages of 1000 keys, walking the first 300 pages with continuation tokens
  root /      Delimiter=/ at the top: 100 common prefixes, skipping 10,000 keys each
  prefix /    Prefix=dirNN/ Delimiter=/: 10 common prefixes
  deep        Prefix=dirNN/subM/: one page of 1000 keys
Prints p50/p99 per page and the PostgreSQL/SQLite ratio; writes bench-results/listing.json.
"""
import argparse
import html
import http.client
import json
import os
import random
import re
import sqlite3
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests"))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

PASSWORD = "Voss-bench-1"


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def client(k):
    k.ose("tenant", "create", "--name", "bench", check=True)
    k.ose("user", "create", "--tenant", "bench", "--name", "b", check=True)
    key = json.loads(k.ose("--json", "key", "create", "--tenant", "bench", "--user", "b", check=True).stdout)
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{k.s3_http_port}", aws_access_key_id=key["accessKey"],
                        aws_secret_access_key=key["secret"], region_name="us-east-1",
                        config=Config(signature_version="s3v4", retries={"max_attempts": 1}, read_timeout=120))


KEY_SQL = ("'dir' || lpad((i % 100)::text, 2, '0') || '/sub' || ((i / 100) % 10)::text || '/obj' || lpad(i::text, 7, '0')")


def fill_postgres(pg, n):
    pg.psql(f"""INSERT INTO objects(bucket_id, key, size, etag, modified_ms, headers, checksum, checksum_algorithm, policy, tags,
                storage, owner_id)
              SELECT o.bucket_id, {KEY_SQL}, o.size, o.etag, o.modified_ms, o.headers, o.checksum, o.checksum_algorithm,
                o.policy, o.tags, o.storage, o.owner_id
              FROM objects o, generate_series(0, {n - 1}) AS i WHERE o.key = 'seed'""", db="voss")
    pg.psql("ANALYZE objects", db="voss")


def fill_sqlite(path, n):
    db = sqlite3.connect(path, timeout=60)
    key = ("'dir' || substr('00' || (i % 100), -2) || '/sub' || ((i / 100) % 10) || '/obj' || substr('0000000' || i, -7)")
    db.execute(f"""WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1})
                  INSERT INTO objects(bucket_id, key, size, etag, modified_ms, headers, checksum, checksum_algorithm, policy, tags,
                    storage, owner_id)
                  SELECT o.bucket_id, {key}, o.size, o.etag, o.modified_ms, o.headers, o.checksum, o.checksum_algorithm,
                    o.policy, o.tags, o.storage, o.owner_id FROM objects o, s WHERE o.key = 'seed'""")
    db.commit()
    db.execute("ANALYZE")
    db.close()


class RawLister:
    """Times ListObjectsV2 at the HTTP level: a presigned URL on a kept-alive connection, the body read
    whole, only the few fields the walk needs picked out — the gateway's answer time, without the
    client's XML parsing (boto3 spends tens of milliseconds parsing a 1000-key page in Python)."""

    def __init__(self, s3, port):
        self.s3 = s3
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def list(self, **params):
        url = urllib.parse.urlsplit(self.s3.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=3600))
        t0 = time.perf_counter()
        self.conn.request("GET", url.path + "?" + url.query)
        resp = self.conn.getresponse()
        body = resp.read()
        dt = time.perf_counter() - t0
        assert resp.status == 200, body[:300]
        token = re.search(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>", body)
        return dt, {
            "KeyCount": int(re.search(rb"<KeyCount>(\d+)</KeyCount>", body).group(1)),
            "CommonPrefixes": body.count(b"<CommonPrefixes>"),
            "NextContinuationToken": html.unescape(token.group(1).decode()) if token else None,
        }


def measure(s3, port, bucket, rounds, n):
    """Per workload: `http` (the gateway, see RawLister) and `boto3` (a real client, parsing included)."""
    raw = RawLister(s3, port)
    r = {w: {"http": [], "boto3": []} for w in ("flat", "root /", "prefix /", "deep")}

    def both(workload, check, **params):
        dt, page = raw.list(**params)
        r[workload]["http"].append(dt)
        check(page)
        t0 = time.perf_counter()
        s3.list_objects_v2(**params)
        r[workload]["boto3"].append(time.perf_counter() - t0)
        return page

    token = None
    for _ in range(min(300, n // 1000)):
        kw = {"Bucket": bucket, "MaxKeys": 1000}
        if token:
            kw["ContinuationToken"] = token
        page = both("flat", lambda p: None, **kw)
        assert page["KeyCount"] == 1000, page
        token = page["NextContinuationToken"]
    rng = random.Random(7)
    for _ in range(rounds):
        both("root /", lambda p: None, Bucket=bucket, Delimiter="/")
        d = rng.randrange(100)
        page = both("prefix /", lambda p: None, Bucket=bucket, Prefix=f"dir{d:02d}/", Delimiter="/")
        assert page["CommonPrefixes"] == 10, page
        page = both("deep", lambda p: None, Bucket=bucket, Prefix=f"dir{d:02d}/sub{rng.randrange(10)}/")
        assert page["KeyCount"] == min(1000, n // 1000), page
    out = {}
    for w, v in r.items():
        out[w] = {"p50_ms": round(pct(v["http"], 50) * 1000, 2), "p99_ms": round(pct(v["http"], 99) * 1000, 2),
                  "boto3_p50_ms": round(pct(v["boto3"], 50) * 1000, 2), "boto3_p99_ms": round(pct(v["boto3"], 99) * 1000, 2),
                  "pages": len(v["http"])}
    return out


def run(store, n, rounds, tmp):
    from voss_harness import Keeper, wait_for
    from pg_harness import Postgres
    pg = None
    k = Keeper(os.path.join(tmp, store), s3=True)
    try:
        k.wait_ready()
        if store == "postgres":
            pg = Postgres().init().start()
            pg.create_database("voss", "voss", PASSWORD)
            k.ose("db", "set", "--url", f"jdbc:postgresql://127.0.0.1:{pg.port}/voss", "--user", "voss", "--secret", PASSWORD,
                  check=True)
            wait_for(lambda: "postgres" in (k.worker("s3").get("status") or ""), 30, what="gateway on PostgreSQL")
        s3 = client(k)
        s3.create_bucket(Bucket="big")
        s3.put_object(Bucket="big", Key="seed", Body=b"x" * 100)
        t0 = time.time()
        if pg:
            fill_postgres(pg, n)
        else:
            fill_sqlite(os.path.join(k.dir, "lib", "metadata.sqlite"), n)
        print(f"  {store}: {n} objects made in {time.time() - t0:.0f} s", flush=True)
        s3.delete_object(Bucket="big", Key="seed")
        return measure(s3, k.s3_http_port, "big", rounds, n)
    finally:
        k.cleanup()
        if pg:
            pg.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=100)
    a = ap.parse_args()
    os.environ["VOSS_BIN_DIR"] = os.path.abspath(a.bin)
    tmp = tempfile.mkdtemp(prefix="voss-bench-listing-")
    print(f"listing bench: {a.objects} objects, ListObjectsV2 through the gateway")
    results = {s: run(s, a.objects, a.rounds, tmp) for s in ("postgres", "sqlite")}
    print("\nper page, at the HTTP level (the gateway's answer, body read, no XML parsing):")
    print(f"{'workload':<10} {'PG p50':>8} {'PG p99':>8} {'SQLite p50':>11} {'SQLite p99':>11} {'p99 ratio':>10}")
    for w in results["postgres"]:
        p, s = results["postgres"][w], results["sqlite"][w]
        print(f"{w:<10} {p['p50_ms']:>7.1f}ms {p['p99_ms']:>7.1f}ms {s['p50_ms']:>10.1f}ms {s['p99_ms']:>10.1f}ms "
              f"{p['p99_ms'] / max(s['p99_ms'], 0.001):>9.2f}x")
    print("\nthe same pages through boto3 (its XML parsing included):")
    for w in results["postgres"]:
        p, s = results["postgres"][w], results["sqlite"][w]
        print(f"{w:<10} {p['boto3_p50_ms']:>7.1f}ms {p['boto3_p99_ms']:>7.1f}ms {s['boto3_p50_ms']:>10.1f}ms {s['boto3_p99_ms']:>10.1f}ms")
    worst = max(v["p99_ms"] for v in results["postgres"].values())
    print(f"\nworst PostgreSQL p99 per page: {worst:.1f} ms (target <= 50 ms)")
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results", "listing.json"), "w") as f:
        json.dump({"objects": a.objects, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
