#!/usr/bin/env python3
"""Listing at scale (`make bench`): ListObjectsV2 pages on a bucket of N objects (default 1,000,000),
through the gateway on PostgreSQL, and — the reference, in the same run — on the embedded SQLite store.

The objects are made by copying the row of one real PUT N times in SQL (a million PUTs would take an
hour and measure PUT, not listing). Keys: dirNN/subM/objIIIIIII — 100 "directories" of 10,000 keys,
each with 10 "subdirectories" of 1,000.

Workloads, each timed per request with boto3 (signing and HTTP included):
  flat        pages of 1000 keys, walking the first 300 pages with continuation tokens
  root /      Delimiter=/ at the top: 100 common prefixes, skipping 10,000 keys each
  prefix /    Prefix=dirNN/ Delimiter=/: 10 common prefixes
  deep        Prefix=dirNN/subM/: one page of 1000 keys
Prints p50/p99 per page and the PostgreSQL/SQLite ratio; writes bench-results/listing.json.
"""
import argparse
import json
import os
import random
import sqlite3
import sys
import tempfile
import time

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
                        config=Config(retries={"max_attempts": 1}, read_timeout=120))


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


def measure(s3, bucket, rounds, n):
    r = {"flat": [], "root /": [], "prefix /": [], "deep": []}
    token = None
    for _ in range(min(300, n // 1000)):
        kw = {"Bucket": bucket, "MaxKeys": 1000}
        if token:
            kw["ContinuationToken"] = token
        t0 = time.perf_counter()
        page = s3.list_objects_v2(**kw)
        r["flat"].append(time.perf_counter() - t0)
        assert page["KeyCount"] == 1000, (page["KeyCount"], page.get("IsTruncated"), [o["Key"] for o in page.get("Contents", [])][:3])
        token = page.get("NextContinuationToken")
    rng = random.Random(7)
    for _ in range(rounds):
        t0 = time.perf_counter()
        page = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
        r["root /"].append(time.perf_counter() - t0)
        assert len(page["CommonPrefixes"]) == 100, len(page.get("CommonPrefixes", []))
        d = rng.randrange(100)
        t0 = time.perf_counter()
        page = s3.list_objects_v2(Bucket=bucket, Prefix=f"dir{d:02d}/", Delimiter="/")
        r["prefix /"].append(time.perf_counter() - t0)
        assert len(page["CommonPrefixes"]) == 10
        t0 = time.perf_counter()
        page = s3.list_objects_v2(Bucket=bucket, Prefix=f"dir{d:02d}/sub{rng.randrange(10)}/")
        r["deep"].append(time.perf_counter() - t0)
        assert page["KeyCount"] == min(1000, n // 1000)
    return {k: {"p50_ms": round(pct(v, 50) * 1000, 2), "p99_ms": round(pct(v, 99) * 1000, 2), "pages": len(v)}
            for k, v in r.items()}


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
        return measure(s3, "big", rounds, n)
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
    print(f"\n{'workload':<10} {'PG p50':>8} {'PG p99':>8} {'SQLite p50':>11} {'SQLite p99':>11} {'p99 ratio':>10}")
    for w in results["postgres"]:
        p, s = results["postgres"][w], results["sqlite"][w]
        print(f"{w:<10} {p['p50_ms']:>7.1f}ms {p['p99_ms']:>7.1f}ms {s['p50_ms']:>10.1f}ms {s['p99_ms']:>10.1f}ms "
              f"{p['p99_ms'] / max(s['p99_ms'], 0.001):>9.2f}x")
    worst = max(v["p99_ms"] for v in results["postgres"].values())
    print(f"\nworst PostgreSQL p99 per page: {worst:.1f} ms (target <= 50 ms)")
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results", "listing.json"), "w") as f:
        json.dump({"objects": a.objects, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
