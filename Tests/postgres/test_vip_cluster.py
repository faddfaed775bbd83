"""The cluster's front door: three nodes sharing one PostgreSQL, joined by gossip, each running the
virtual-IP translator on the same loopback port (SO_REUSEPORT). Real clients (AWS CLI, boto3) use the
virtual address; one whole node is killed mid-load and no request fails after the client's retry."""
import json
import os
import signal
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config

from conftest import PASSWORD
from voss_harness import Keeper, free_port, pid_alive, wait_for


@pytest.fixture
def three(tmp_path, pg):
    nodes = []
    try:
        # The nodes share one object directory, as they would share an NFS or CephFS mount.
        shared = tmp_path / "objects"
        for i in range(1, 4):
            k = Keeper(tmp_path / f"n{i}", s3=True, vip=True, name=f"n{i}", objects_dir=str(shared))
            nodes.append(k)
        for k in nodes:
            k.wait_ready()
        token = nodes[0].ose("cluster", "token", check=True).stdout.strip()
        for k in nodes[1:]:
            k.ose("cluster", "join", "--seed", f"127.0.0.1:{nodes[0].gossip_port}", "--token", token, check=True)
        url = f"jdbc:postgresql://127.0.0.1:{pg.port}/voss"
        for k in nodes:
            k.ose("db", "set", "--url", url, "--user", "voss", "--secret", PASSWORD, check=True)
        for k in nodes:
            wait_for(lambda: "postgres" in (k.worker("s3").get("status") or ""), 30, what=f"{k.name} gateway on PostgreSQL")
        yield nodes
    finally:
        for k in nodes:
            k.cleanup()


def vip_backends(k):
    st, body = k.api("GET", "/v1/vip")
    assert st == 200, body
    return body


def test_clients_use_the_virtual_address_and_survive_a_node_dying(three):
    n1, n2, n3 = three
    port = free_port()
    r = n1.ose("vip", "set", "--address", "127.0.0.1", "--port", str(port), "--target", "http", "--proxy-protocol", "--json")
    assert r.returncode == 0, r.stderr
    # The setting reaches every node by gossip; every translator serves three backends.
    for k in three:
        wait_for(lambda: "3 backends" in (k.worker("vip").get("status") or ""), 15, what=f"{k.name} translator with 3 backends")

    n1.ose("tenant", "create", "--name", "acme", check=True)
    n1.ose("user", "create", "--tenant", "acme", "--name", "alice", check=True)
    key = json.loads(n1.ose("--json", "key", "create", "--tenant", "acme", "--user", "alice", check=True).stdout)
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key["accessKey"], AWS_SECRET_ACCESS_KEY=key["secret"],
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    aws = ["aws", "--endpoint-url", endpoint]
    subprocess.run(aws + ["s3", "mb", "s3://front-door"], env=env, check=True, capture_output=True)
    ls = subprocess.run(aws + ["s3", "ls"], env=env, check=True, capture_output=True, text=True)
    assert "front-door" in ls.stdout

    # boto3 as tenants configure it: standard retries (3 attempts).
    s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key["accessKey"], aws_secret_access_key=key["secret"],
                      region_name="us-east-1",
                      config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10))
    for i in range(30):
        s3.put_object(Bucket="front-door", Key=f"pre-{i}", Body=f"body {i}".encode())
    # The translators spread new connections over every gateway (boto3 keeps its connection open, so
    # count connections: thirty anonymous requests, each on a new one).
    import http.client
    for _ in range(30):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("GET", "/front-door/pre-0")
        assert c.getresponse().status == 403
        c.close()
    time.sleep(1.2)  # counters arrive with the next pong
    totals = {}
    for k in three:
        for b in vip_backends(k)["backends"]:
            totals[b["name"]] = totals.get(b["name"], 0) + (b["total"] or 0)
    assert all(totals.get(n, 0) > 0 for n in ("n1", "n2", "n3")), totals

    # Load from four clients while node 2 (keeper, gateway and translator) is killed.
    failures, done, stop = [], [0], threading.Event()

    def client(idx):
        n = 0
        while not stop.is_set():
            k = f"load-{idx}-{n}"
            try:
                s3.put_object(Bucket="front-door", Key=k, Body=k.encode())
                assert s3.get_object(Bucket="front-door", Key=k)["Body"].read() == k.encode()
                done[0] += 1
            except Exception as e:  # noqa: BLE001 — every failure counts, whatever its type
                failures.append((round(time.monotonic() - t_start, 2), k, repr(e)))
            n += 1

    t_start = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    pids = [w["pid"] for w in n2.service()["workers"] if w.get("pid")]
    n2.proc.send_signal(signal.SIGKILL)
    n2.proc.wait()
    killed = time.monotonic()
    print(f"killed node 2 at {killed - t_start:.2f} s")
    wait_for(lambda: not any(pid_alive(p) for p in pids), 5, what="node 2's workers gone")
    # The survivors drop it from their backends once gossip has declared it failed.
    for k in (n1, n3):
        wait_for(lambda: "2 backends" in (k.worker("vip").get("status") or ""), 20, what=f"{k.name} drops n2")
    dropped = time.monotonic() - killed
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    print(f"vip: {done[0]} put+get pairs, node 2 dropped from the backends {dropped:.2f} s after kill -9, failures: {failures[:3]}")
    assert done[0] > 20
    assert failures == []
    # Everything written before is still served through the front door.
    for i in range(30):
        assert s3.get_object(Bucket="front-door", Key=f"pre-{i}")["Body"].read() == f"body {i}".encode()


def test_vip_settings_are_validated_and_can_be_disabled(three):
    n1 = three[0]
    r = n1.ose("vip", "set", "--address", "not-an-ip", "--port", "8080")
    assert r.returncode != 0 and "not an IP address" in r.stderr, r.stderr
    r = n1.ose("vip", "set", "--address", "10.0.0.1", "--port", "0")
    assert r.returncode != 0
    r = n1.ose("vip", "set", "--address", "10.0.0.1", "--port", "8080", "--own")
    assert r.returncode != 0 and "--interface" in r.stderr, r.stderr
    port = free_port()
    n1.ose("vip", "set", "--address", "127.0.0.1", "--port", str(port), "--target", "http", check=True)
    wait_for(lambda: "backends" in (three[2].worker("vip").get("status") or ""), 10, what="translator on node 3")
    out = n1.ose("vip", "show", check=True).stdout
    assert f"127.0.0.1:{port}" in out and "n3" in out
    # Every new connection is relayed (a connect that raced the client's registration once lost
    # requests), and a client that shuts down its sending side still gets the whole answer.
    import socket
    for i in range(300):
        c = socket.create_connection(("127.0.0.1", port), timeout=3)
        c.sendall(b"GET /nobucket/x HTTP/1.1\r\nHost: a\r\n\r\n")
        assert c.recv(12) == b"HTTP/1.1 404", i  # NoSuchBucket, from whichever gateway
        c.close()
    c = socket.create_connection(("127.0.0.1", port), timeout=3)
    c.sendall(b"GET /nobucket/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    c.shutdown(socket.SHUT_WR)
    answer = b""
    while chunk := c.recv(4096):
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 404") and answer.endswith(b"</Error>"), answer[-80:]
    n1.ose("vip", "disable", check=True)
    for k in three:
        wait_for(lambda: "idle" in (k.worker("vip").get("status") or ""), 10, what=f"{k.name} translator idle")
    assert "No virtual address" in n1.ose("vip", "show", check=True).stdout


@pytest.fixture(scope="module")
def rgw():
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from ceph_harness import RGW, available
    if not available():
        pytest.fail("Ceph RGW is not installed (scripts/deps.sh test installs it)")
    r = RGW()
    yield r
    r.cleanup()


def test_a_cluster_on_rgw_needs_no_shared_directory_and_loses_no_acknowledged_object(tmp_path, pg, rgw):
    """Issue 13: three keepers on one PostgreSQL and one Ceph RGW, each with its own (unshared) data
    directory; clients through the virtual address; node 2 killed with kill -9 under four writing
    clients; every acknowledged object reads back byte-exact from the survivors."""
    import hashlib
    import random
    nodes = []
    try:
        for i in range(1, 4):
            nodes.append(Keeper(tmp_path / f"n{i}", s3=True, vip=True, name=f"n{i}"))
        for k in nodes:
            k.wait_ready()
        n1, n2, n3 = nodes
        token = n1.ose("cluster", "token", check=True).stdout.strip()
        for k in (n2, n3):
            k.ose("cluster", "join", "--seed", f"127.0.0.1:{n1.gossip_port}", "--token", token, check=True)
        url = f"jdbc:postgresql://127.0.0.1:{pg.port}/voss"
        for k in nodes:
            k.ose("db", "set", "--url", url, "--user", "voss", "--secret", PASSWORD, check=True)
        for k in nodes:
            wait_for(lambda: "postgres" in (k.worker("s3").get("status") or ""), 30, what=f"{k.name} gateway on PostgreSQL")
        # One node configures the platform; gossip takes it to the others.
        rgw.configure(n1)
        for k in nodes:
            wait_for(lambda: "ceph *" in k.ose("platforms", "show").stdout, 15, what=f"{k.name} knows the platform")
        port = free_port()
        n1.ose("vip", "set", "--address", "127.0.0.1", "--port", str(port), "--target", "http", "--proxy-protocol", check=True)
        for k in nodes:
            wait_for(lambda: "3 backends" in (k.worker("vip").get("status") or ""), 15, what=f"{k.name} translator")
        n1.ose("tenant", "create", "--name", "acme", check=True)
        n1.ose("user", "create", "--tenant", "acme", "--name", "alice", check=True)
        key = json.loads(n1.ose("--json", "key", "create", "--tenant", "acme", "--user", "alice", check=True).stdout)
        s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id=key["accessKey"],
                          aws_secret_access_key=key["secret"], region_name="us-east-1",
                          config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=15))
        s3.create_bucket(Bucket="shared-nothing")
        assert s3.get_bucket_location(Bucket="shared-nothing")["LocationConstraint"] == "ceph"

        acked, attempts, stop = {}, [0], threading.Event()

        def writer(idx):
            rng = random.Random(idx)
            n = 0
            while not stop.is_set():
                k = f"w{idx}/{n}"
                body = rng.randbytes(rng.choice([100, 64 * 1024, 700 * 1024]))
                attempts[0] += 1
                try:
                    s3.put_object(Bucket="shared-nothing", Key=k, Body=body)
                    acked[k] = hashlib.sha256(body).hexdigest()
                except Exception:  # noqa: BLE001 — unacknowledged writes may fail while the node dies
                    pass
                n += 1

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        n2.proc.send_signal(signal.SIGKILL)
        n2.proc.wait()
        for k in (n1, n3):
            wait_for(lambda: "2 backends" in (k.worker("vip").get("status") or ""), 20, what=f"{k.name} drops n2")
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join()
        print(f"rgw cluster: {attempts[0]} writes attempted, {len(acked)} acknowledged")
        assert len(acked) > 40
        bad = []
        for k, digest in acked.items():
            got = hashlib.sha256(s3.get_object(Bucket="shared-nothing", Key=k)["Body"].read()).hexdigest()
            if got != digest:
                bad.append(k)
        assert bad == []
        # No node holds object bytes of its own: they are all in RGW.
        for k in nodes:
            objects = os.path.join(k.dir, "lib", "objects")
            held = [f for root, _, names in os.walk(objects) if "/.tmp" not in root for f in names]
            assert held == [], (k.name, held[:3])
    finally:
        for k in nodes:
            k.cleanup()
