"""`ose migration`: the metadata of a node moves from the embedded store into PostgreSQL; nothing is
lost or duplicated, the gateway is read-only meanwhile, and a task survives a keeper crash."""
import json
import signal
import time

from botocore.exceptions import ClientError

from conftest import PASSWORD, s3_client, s3_for
from voss_harness import wait_for


def populate(s3, buckets=2, objects=150):
    """Buckets with objects (some with tags and metadata), and a multipart upload in progress."""
    expect = {}
    for b in range(buckets):
        name = f"mig-{b}"
        s3.create_bucket(Bucket=name)
        for i in range(objects):
            key = f"dir{i % 3}/object-{i}-ü"
            body = f"{name}/{key}".encode() * (i % 7 + 1)
            s3.put_object(Bucket=name, Key=key, Body=body, Metadata={"n": str(i)})
            expect[(name, key)] = body
        s3.put_object_tagging(Bucket=name, Key="dir0/object-0-ü", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    up = s3.create_multipart_upload(Bucket="mig-0", Key="big")
    part = s3.upload_part(Bucket="mig-0", Key="big", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * (5 << 20))
    return expect, up["UploadId"], part["ETag"]


def listing(s3, bucket):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["Size"], o["ETag"])
    return out


def test_migration_moves_everything_and_the_node_switches(keeper, pg):
    s3 = s3_client(keeper)
    expect, upload_id, etag = populate(s3)
    before = {b: listing(s3, b) for b in ("mig-0", "mig-1")}
    keys = json.loads(keeper.ose("--json", "key", "list", "--tenant", "acme", "--user", "alice", check=True).stdout)

    r = keeper.ose("db", "set", "--url", f"jdbc:postgresql://127.0.0.1:{pg.port}/voss", "--user", "voss", "--secret", PASSWORD)
    assert r.returncode == 0 and "ose migration start" in r.stdout, r.stdout + r.stderr
    assert json.loads(keeper.ose("--json", "db", "show", check=True).stdout)["active"] == "embedded"

    r = keeper.ose("migration", "start", "--no-wait", check=True)
    assert "maintenance" in r.stdout
    # Maintenance: writes answer 503 with Retry-After, reads are served.
    def refused():
        try:
            s3.put_object(Bucket="mig-0", Key="during", Body=b"x")
            return False
        except ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 503
            assert e.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after")
            return True
    wait_for(refused, 1, interval=0.05, what="a write refused in maintenance")
    assert s3.get_object(Bucket="mig-1", Key="dir1/object-1-ü")["Body"].read() == expect[("mig-1", "dir1/object-1-ü")]

    wait_for(lambda: json.loads(keeper.ose("--json", "migration", "show", check=True).stdout)["status"] != "RUNNING", 60,
             interval=0.2, what="migration end")
    shown = keeper.ose("migration", "show", check=True).stdout
    assert shown.startswith("[Migration Task]\nID : task-"), shown
    for line in ("Status : COMPLETED", "Progress : 100", "Type Migration : success", "Path Migration : success",
                 "Permission Migration : success"):
        assert line in shown, shown
    info = json.loads(keeper.ose("--json", "migration", "show", check=True).stdout)
    assert info["copied"]["objects"] == info["total"]["objects"] == 300

    wait_for(lambda: "postgres" in (keeper.worker("s3").get("status") or "") and keeper.worker("s3")["state"] == "running",
             30, what="gateway on PostgreSQL")
    assert json.loads(keeper.ose("--json", "db", "show", check=True).stdout)["active"] == "postgres"
    assert pg.psql("SELECT count(*) FROM objects", db="voss") == "300"

    # Every object, key and upload is served from PostgreSQL as before, with the same key pair.
    s3 = s3_for(keeper, keys["keys"][0]["accessKey"], None) if False else s3
    for b in before:
        assert listing(s3, b) == before[b]
    for (b, k), body in list(expect.items())[::17]:
        o = s3.get_object(Bucket=b, Key=k)
        assert o["Body"].read() == body
    assert s3.get_object_tagging(Bucket="mig-0", Key="dir0/object-0-ü")["TagSet"] == [{"Key": "k", "Value": "v"}]
    s3.complete_multipart_upload(Bucket="mig-0", Key="big", UploadId=upload_id,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert s3.head_object(Bucket="mig-0", Key="big")["ContentLength"] == 5 << 20
    s3.put_object(Bucket="mig-0", Key="after", Body=b"written to PostgreSQL")
    assert pg.psql("SELECT count(*) FROM objects WHERE key = 'after'", db="voss") == "1"

    # A second task needs --force; this node already uses PostgreSQL.
    r = keeper.ose("migration", "start")
    assert r.returncode == 1 and "already uses PostgreSQL" in r.stderr


def test_a_task_resumes_after_the_keeper_is_killed(keeper, pg):
    s3 = s3_client(keeper)
    populate(s3, buckets=1, objects=120)
    keeper.ose("db", "set", "--url", f"jdbc:postgresql://127.0.0.1:{pg.port}/voss", "--user", "voss", "--secret", PASSWORD,
               check=True)
    task = json.loads(keeper.ose("--json", "migration", "start", "--no-wait", check=True).stdout)["id"]
    keeper.stop(signal.SIGKILL)
    keeper.start()
    wait_for(lambda: json.loads(keeper.ose("--json", "migration", "show", check=True).stdout)["status"] == "COMPLETED", 60,
             interval=0.2, what="resumed migration")
    info = json.loads(keeper.ose("--json", "migration", "show", check=True).stdout)
    assert info["id"] == task and info["copied"]["objects"] == 120
    assert pg.psql("SELECT count(*) FROM objects", db="voss") == "120"
    wait_for(lambda: "postgres" in (keeper.worker("s3").get("status") or ""), 30, what="gateway on PostgreSQL")
    assert len(listing(s3, "mig-0")) == 120


def test_force_replaces_a_failed_task(keeper, pg):
    s3 = s3_client(keeper)
    s3.create_bucket(Bucket="taken")
    s3.put_object(Bucket="taken", Key="k", Body=b"v")
    # Another tenant already owns the name in PostgreSQL: the task must fail, not merge.
    pg.psql("SELECT 1", db="voss")
    keeper.ose("db", "set", "--url", f"jdbc:postgresql://127.0.0.1:{pg.port}/voss", "--user", "voss", "--secret", PASSWORD,
               check=True)
    pg.psql("INSERT INTO tenants VALUES ('other', 'other', 1); INSERT INTO buckets(name, tenant_id, owner_id, created_ms, "
            "region, policy, tags) VALUES ('taken', 'other', 'x', 1, 'us-east-1', 'private', NULL)", db="voss", user="voss")
    r = keeper.ose("migration", "start")
    assert r.returncode == 1 and "belongs to another tenant" in (r.stdout + r.stderr), r.stdout + r.stderr
    assert "Status : FAILED" in keeper.ose("migration", "show", check=True).stdout
    # Maintenance is over, the node still serves (and writes to) its embedded store.
    s3.put_object(Bucket="taken", Key="k2", Body=b"v")
    r = keeper.ose("migration", "start")
    assert r.returncode == 1 and "--force" in r.stderr
    pg.psql("DELETE FROM buckets WHERE name = 'taken'", db="voss", user="voss")
    r = keeper.ose("migration", "start", "--force")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Status : COMPLETED" in r.stdout
