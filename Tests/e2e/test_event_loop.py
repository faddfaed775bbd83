"""A request runs on its connection's event loop (issue 15, decision 17): the gateway counts every time
a connection's task is resumed from another thread (`loop_hops`). A GET or HEAD of a local object
never leaves the loop (on PostgreSQL its one statement goes over a connection on that loop); a durable PUT leaves it once: the I/O thread that creates,
writes, fsyncs and renames the blob queues the object row's write, and the task resumes when that
is committed (the blob's journal entry is written meanwhile, not awaited)."""
import json
import os
import time

import pytest
import requests
from voss_harness import wait_for


def gateway_counters(voss, at_least_requests):
    """The gateway's counters once they include `at_least_requests` requests (they arrive with the
    keeper's health checks)."""
    deadline = time.time() + 30
    while True:
        workers = json.loads(voss.ose("--json", "service", "show").stdout)["workers"]
        c = next(w for w in workers if w["name"] == "s3").get("counters") or {}
        if ("loop_hops" in c and c.get("requests", 0) >= at_least_requests) or time.time() > deadline:
            return c
        time.sleep(0.2)


def test_hops_per_request(voss, s3, bucket):
    s3.put_object(Bucket=bucket, Key="small", Body=b"x" * 4096)
    # Closed at the end: idle keep-alive connections count against per-client limits other tests set.
    with requests.Session() as session:
        read_hops, write_hops, n, puts = measure(voss, s3, bucket, session)
    print(f"loop hops: {read_hops} for {n} GET/HEAD, {write_hops} for {puts} PUTs")
    if voss.rgw:
        return  # an upstream's bytes arrive on the HTTP client's own event loops
    if voss.pg:
        # A GET or HEAD reads bucket and object in one statement on the PostgreSQL connection that
        # lives on the request's own event loop (opened by the first GET above): no hop either.
        assert read_hops <= n // 20
        return
    # The old design hopped several times per request; a little slack for background work.
    assert read_hops <= n // 20
    assert write_hops <= puts + n // 20


def wait_until_quiet(voss):
    """Background work the tests before this one left (garbage collection of the blobs their clean-up
    deleted) also comes back to the loops: wait until the counter stops moving."""
    last = gateway_counters(voss, 0).get("loop_hops")
    deadline = time.time() + 20
    while time.time() < deadline:
        time.sleep(1.5)  # the counters arrive with the keeper's health checks, once a second
        now = gateway_counters(voss, 0).get("loop_hops")
        if now == last:
            return
        last = now


def measure(voss, s3, bucket, session):
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small"})
    head = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "small"})
    puts = [s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": f"new{i}"}) for i in range(40)]
    assert session.get(get).status_code == 200
    wait_until_quiet(voss)
    before = gateway_counters(voss, 0)
    start = before.get("requests", 0)

    n = 200
    for i in range(n):
        r = session.head(head) if i % 4 == 0 else session.get(get)
        assert r.status_code == 200
    mid = gateway_counters(voss, start + n)
    read_hops = mid["loop_hops"] - before["loop_hops"]

    for u in puts:
        assert session.put(u, data=b"y" * 4096).status_code == 200
    after = gateway_counters(voss, start + n + len(puts))
    write_hops = after["loop_hops"] - mid["loop_hops"]
    return read_hops, write_hops, n, len(puts)


def test_replaced_and_deleted_blobs_are_collected_in_the_background(voss, s3, bucket):
    """An overwrite or a delete answers first; the replaced blobs are deleted after it, in batches
    (`collectLater`): soon their files are gone and their journal entries cleared, while the current
    object's blob stays."""
    if voss.rgw:
        pytest.skip("the bytes are in RGW (test_crash.py checks its blobs)")

    def blob_of(key):
        rows = voss.column(f"SELECT storage FROM objects WHERE key = '{key}'")
        return json.loads(rows[0])["pieces"][0]["blob"] if rows else None

    # 20,000 bytes: past the inline size, so each version is a file; then small ones, whose bytes are
    # rows of `inline_blobs` (decision 50), collected the same way.
    replaced = []
    for i in range(6):
        old = blob_of("over")
        s3.put_object(Bucket=bucket, Key="over", Body=b"v%d" % i * 10_000)
        if old:
            replaced.append(old)
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x" * 20_000)
    replaced.append(blob_of("gone"))
    s3.delete_object(Bucket=bucket, Key="gone")
    current = blob_of("over")
    assert len(replaced) == 6 and current not in replaced
    small = []
    for i in range(3):
        s3.put_object(Bucket=bucket, Key="small-over", Body=b"s%d" % i * 100)
        small.append(blob_of("small-over"))
    assert all(b.startswith("local.db::") for b in small)
    s3.delete_object(Bucket=bucket, Key="small-over")
    inline_left = lambda: voss.column("SELECT count(*) FROM inline_blobs WHERE blob IN (%s)" % ", ".join(f"'{b}'" for b in small))  # noqa: E731

    lib = os.path.join(voss.k.dir, "lib", "objects")
    on_disk = lambda b: os.path.exists(os.path.join(lib, b[0:2], b[2:4], b))  # noqa: E731
    quoted = ", ".join(f"'{b}'" for b in replaced)
    wait_for(lambda: not any(on_disk(b) for b in replaced) and voss.column(f"SELECT count(*) FROM blob_journal WHERE blob IN ({quoted})") == ["0"],
             15, what="replaced blobs collected")
    assert on_disk(current)
    assert s3.get_object(Bucket=bucket, Key="over")["Body"].read() == b"v5" * 10_000
    wait_for(lambda: inline_left() == ["0"], 15, what="replaced inline blobs collected")
    # The counters show it (they arrive with the keeper's health checks, once a second; other tests'
    # deletes add to them too).
    wait_for(lambda: (lambda c: c.get("garbage_collected", 0) >= len(replaced) and c.get("garbage_queued") == 0)(gateway_counters(voss, 0)),
             15, what="the garbage counters")
    assert voss.column("SELECT count(*) FROM blob_journal WHERE blob IN (%s)" % ", ".join(f"'{b}'" for b in small)) == ["0"]
