"""Storage platforms (issue 13): buckets on a real Ceph RGW and on local files in one system, placement
by LocationConstraint, an upstream that is down, `ose platforms` refusing what does not work, tenant
accounts made through RGW's admin API, and bodies streamed through. Runs in the VOSS_TEST_PLATFORM=rgw
session (the default platform is then the RGW called `ceph`)."""
import hashlib
import json
import os
import socket
import time

import pytest
import requests
from botocore.exceptions import ClientError

from voss_harness import free_port, wait_for

MiB = 1024 * 1024

pytestmark = pytest.mark.skipif(os.environ.get("VOSS_TEST_PLATFORM") != "rgw", reason="needs the RGW session")


def code(e):
    return e.value.response["Error"]["Code"]


def storage_of(voss, bucket, key):
    rows = voss.column(
        f"SELECT o.storage FROM objects o JOIN buckets b ON b.id = o.bucket_id WHERE b.name = '{bucket}' AND o.key = '{key}'")
    return [p["blob"] for p in json.loads(rows[0])["pieces"]]


def test_buckets_on_two_platforms_at_once(voss, s3, new_bucket):
    ident = voss.identity("acme", "alice")
    on_ceph = new_bucket(s3)
    on_local = new_bucket(s3, CreateBucketConfiguration={"LocationConstraint": "local"})
    assert s3.get_bucket_location(Bucket=on_ceph)["LocationConstraint"] == "ceph"
    assert s3.get_bucket_location(Bucket=on_local)["LocationConstraint"] is None
    s3.put_object(Bucket=on_ceph, Key="k", Body=b"upstream bytes")
    s3.put_object(Bucket=on_local, Key="k", Body=b"local bytes")
    (ceph_blob,) = storage_of(voss, on_ceph, "k")
    (local_blob,) = storage_of(voss, on_local, "k")
    assert ceph_blob.startswith(f"ceph:{ident.tenant_id}:")
    assert ceph_blob in voss.rgw.blobs({ident.tenant_id})
    # Eleven bytes: kept in the database beside their row (decision 50), still the local platform's.
    assert local_blob.startswith("local.db::") and voss.column(f"SELECT count(*) FROM inline_blobs WHERE blob = '{local_blob}'") == ["1"]
    # A copy across platforms streams the bytes; within the upstream it is the upstream's copy.
    s3.copy_object(Bucket=on_local, Key="from-ceph", CopySource={"Bucket": on_ceph, "Key": "k"})
    s3.copy_object(Bucket=on_ceph, Key="from-local", CopySource={"Bucket": on_local, "Key": "k"})
    s3.copy_object(Bucket=on_ceph, Key="within", CopySource={"Bucket": on_ceph, "Key": "k"})
    assert s3.get_object(Bucket=on_local, Key="from-ceph")["Body"].read() == b"upstream bytes"
    assert s3.get_object(Bucket=on_ceph, Key="from-local")["Body"].read() == b"local bytes"
    assert s3.get_object(Bucket=on_ceph, Key="within")["Body"].read() == b"upstream bytes"
    assert storage_of(voss, on_ceph, "within")[0].startswith("ceph:")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=on_ceph + "-x", CreateBucketConfiguration={"LocationConstraint": "atlantis"})
    assert code(e) == "IllegalLocationConstraintException"


def test_each_tenant_gets_its_own_rgw_user_and_bucket(voss, new_bucket):
    s3 = voss.client(("globex", "gina"))
    b = new_bucket(s3)
    s3.put_object(Bucket=b, Key="x", Body=b"x")
    tid = voss.identity("globex", "gina").tenant_id
    info = voss.rgw.admin("user", "info", "--uid", f"voss-{tid}")
    assert info["keys"], info
    assert f"voss-{tid}" in voss.rgw.admin("bucket", "list", "--uid", f"voss-{tid}")
    # The tenant's keys reach only its own bucket upstream.
    key = info["keys"][0]
    other = voss.identity("acme", "alice").tenant_id
    rgw_as_tenant = voss.rgw.client(key["access_key"], key["secret_key"])
    with pytest.raises(ClientError):
        rgw_as_tenant.list_objects_v2(Bucket=f"voss-{other}")


def test_large_bodies_stream_through_byte_exact(voss, s3, bucket):
    data = os.urandom(48 * MiB + 5)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    got = s3.get_object(Bucket=bucket, Key="big")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    r = s3.get_object(Bucket=bucket, Key="big", Range="bytes=33554430-33554440")
    assert r["Body"].read() == data[33554430:33554441]
    # Multipart: the upstream's own upload; GET by part number and ranges across parts.
    uid = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for n, chunk in enumerate([data[:16 * MiB], data[16 * MiB:32 * MiB], data[32 * MiB:]], 1):
        parts.append({"PartNumber": n, "ETag": s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=n, Body=chunk)["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": parts})
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read() == data[16 * MiB:32 * MiB]
    assert s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={16 * MiB - 3}-{16 * MiB + 2}")["Body"].read() == \
        data[16 * MiB - 3:16 * MiB + 3]
    blobs = set(storage_of(voss, bucket, "mp"))
    assert len(blobs) == 1, blobs  # one upstream object, assembled upstream


def test_a_refused_body_never_becomes_an_upstream_object(voss, s3, bucket):
    tid = voss.identity("acme", "alice").tenant_id
    before = voss.rgw.blobs({tid})
    body = os.urandom(3 * MiB)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
    assert code(e) == "BadDigest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")
    time.sleep(1)
    assert voss.rgw.blobs({tid}) - before == set()


def test_ose_refuses_an_upstream_that_does_not_work(voss):
    dead = f"http://127.0.0.1:{free_port()}"
    r = voss.k.ose("platforms", "s3", "set", "--name", "dead", "--url", dead, "--access-key", "a", "--secret", "b")
    assert r.returncode == 1 and "not usable" in r.stdout + r.stderr, r.stdout + r.stderr
    r = voss.k.ose("platforms", "s3", "set", "--name", "wrongkeys", "--url", voss.rgw.endpoint, "--access-key", "NOPE",
                 "--secret", "nope", "--region", voss.rgw.region)
    assert r.returncode == 1 and "refused the access key" in r.stdout + r.stderr, r.stdout + r.stderr
    r = voss.k.ose("platforms", "s3", "set", "--name", "Bad_Name", "--url", dead, "--access-key", "a", "--secret", "b")
    assert r.returncode == 1 and "platform name" in r.stdout + r.stderr
    r = voss.k.ose("platforms", "enable", "nowhere")
    assert r.returncode == 1
    shown = json.loads(voss.ose("--json", "platforms", "show").stdout)["platforms"]
    names = [p["name"] for p in shown]
    assert names[0] == "local" and "ceph" in names and not {"dead", "wrongkeys", "Bad_Name"} & set(names), names
    assert next(p for p in shown if p["name"] == "ceph")["state"] == "normal"
    assert all("secret" not in p for p in shown)


def test_an_upstream_that_is_down_gets_503_and_others_keep_working(voss, s3, new_bucket):
    port = free_port()
    r = voss.k.ose("platforms", "s3", "set", "--name", "down", "--url", f"http://127.0.0.1:{port}", "--access-key", "a",
                 "--secret", "b", "--tenancy", "shared", "--force")
    assert r.returncode == 0, r.stdout + r.stderr
    try:
        shown = json.loads(voss.ose("--json", "platforms", "show").stdout)["platforms"]
        assert next(p for p in shown if p["name"] == "down")["state"] == "unavailable"
        ident = voss.identity("acme", "alice")
        wait_for(lambda: "down" in voss.ose("platforms", "show").stdout, 10)

        def create_on_down():
            with pytest.raises(ClientError) as e:
                s3.create_bucket(Bucket=f"down-{port}", CreateBucketConfiguration={"LocationConstraint": "down"})
            return e.value.response

        resp = wait_for(lambda: (r := create_on_down())["Error"]["Code"] == "ServiceUnavailable" and r, 10)
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert resp["ResponseMetadata"]["HTTPHeaders"].get("retry-after")
        # The other platforms do not notice.
        b = new_bucket(s3)
        s3.put_object(Bucket=b, Key="fine", Body=b"still here")
        assert s3.get_object(Bucket=b, Key="fine")["Body"].read() == b"still here"
        assert ident
    finally:
        assert voss.k.ose("platforms", "s3", "delete", "--name", "down").returncode == 0


def test_a_stream_cut_upstream_is_an_error_never_a_half_object(voss, s3, bucket):
    """A GET whose upstream connection dies mid-body: the client sees a short body (the connection
    closes), never a 200 with wrong bytes; a PUT cut by the client leaves nothing listed."""
    data = os.urandom(8 * MiB)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "cut"}, ExpiresIn=300)
    host, port = url.split("/")[2].split(":")
    path = "/" + url.split("/", 3)[3]
    with socket.create_connection((host, int(port))) as c:
        c.sendall(f"PUT {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(data)}\r\n\r\n".encode())
        c.sendall(data[:3 * MiB])
    time.sleep(1)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="cut")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_a_bucket_moves_from_local_to_rgw_readable_throughout_and_resumes_after_a_crash(voss, s3, new_bucket):
    import signal
    import threading
    b = new_bucket(s3, CreateBucketConfiguration={"LocationConstraint": "local"})
    bodies = {f"obj/{i:04d}": os.urandom(i * 997 % 70000) for i in range(400)}
    for k, v in bodies.items():
        s3.put_object(Bucket=b, Key=k, Body=v)
    # A multipart object: its parts stay addressable after the move.
    uid = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    p1, p2 = os.urandom(5 * MiB), os.urandom(MiB)
    parts = [{"PartNumber": n, "ETag": s3.upload_part(Bucket=b, Key="mp", UploadId=uid, PartNumber=n, Body=d)["ETag"]}
             for n, d in ((1, p1), (2, p2))]
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=uid, MultipartUpload={"Parts": parts})
    bodies["mp"] = p1 + p2

    # Readers all along: every GET answers the right bytes, whatever the move is doing.
    stop, errors, reads = threading.Event(), [], [0]

    def reader():
        keys = sorted(bodies)
        i = 0
        while not stop.is_set():
            k = keys[i % len(keys)]
            try:
                got = s3.get_object(Bucket=b, Key=k)["Body"].read()
                if k.startswith("obj/") and got != bodies[k] and got != b"overwritten":
                    errors.append(k)
                reads[0] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(f"{k}: {e!r}")
            i += 7

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    voss.ose("args", "set", "--k", "worker.restart.max", "--v", "1000")  # the kill below is not a crash loop
    try:
        r = voss.k.ose("migration", "bucket", "start", "--bucket", b, "--to", "ceph", "--no-wait")
        assert r.returncode == 0, out(r)
        # Kill the gateway that runs the move once it has made progress; the restarted one resumes.
        wait_for(lambda: json.loads(voss.ose("--json", "migration", "bucket", "show", "--bucket", b).stdout)["moves"][0]["moved"] > 20, 60,
                 what="the move made progress")
        pid = voss.k.worker("s3")["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: (w := voss.k.worker("s3"))["state"] == "running" and w["pid"] != pid, 30, what="gateway restarted")
        s3.put_object(Bucket=b, Key="obj/0399", Body=b"overwritten")  # a client write during the move
        bodies["obj/0399"] = b"overwritten"
        done = wait_for(lambda: (m := json.loads(voss.ose("--json", "migration", "bucket", "show", "--bucket", b).stdout)["moves"][0])
                        ["status"] != "RUNNING" and m, 120, what="the move finished")
    finally:
        stop.set()
        for t in threads:
            t.join()
        voss.ose("args", "del", "--k", "worker.restart.max")
    assert done["status"] == "COMPLETED", done
    assert done["remaining"] == 0 and done["moved"] + done["skipped"] >= len(bodies) - 1
    assert errors == [], errors[:5]
    assert reads[0] > 50
    assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] == "ceph"
    for k, v in bodies.items():
        assert s3.get_object(Bucket=b, Key=k)["Body"].read() == v, k
        assert all(blob.startswith("ceph:") for blob in storage_of(voss, b, k)), k
    assert s3.get_object(Bucket=b, Key="mp", PartNumber=2)["Body"].read() == p2
    shown = voss.ose("migration", "bucket", "show", "--bucket", b).stdout
    assert "Status : COMPLETED" in shown and "Progress : 100" in shown, shown
    # Refusals say why.
    r = voss.k.ose("migration", "bucket", "start", "--bucket", b, "--to", "ceph")
    assert r.returncode == 1 and "already" in out(r), out(r)
    r = voss.k.ose("migration", "bucket", "start", "--bucket", b, "--to", "atlantis")
    assert r.returncode == 1 and "no storage platform" in out(r), out(r)
    r = voss.k.ose("migration", "bucket", "start", "--bucket", "no-such-bucket-here", "--to", "local")
    assert r.returncode == 1 and "no bucket" in out(r), out(r)


def out(r):
    return r.stdout + r.stderr
