"""Cloudian HyperStore and Dell ECS as platforms (issue 13): the `ose cloudian …` and `ose ecs …`
commands of reference/000 with their options, the tenant provisioning through each admin API, and the
data through the `s3` platform's code. No HyperStore or ECS can run here: the admin APIs are test
servers written from the vendors' published references (Tests/fakes/vendor_admin.py), and the S3
service is a real Ceph RGW. Runs in the VOSS_TEST_PLATFORM=rgw session."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from fakes.vendor_admin import ECSManagement, HyperStoreAdmin  # noqa: E402
from voss_harness import free_port, wait_for  # noqa: E402

pytestmark = pytest.mark.skipif(os.environ.get("VOSS_TEST_PLATFORM") != "rgw", reason="needs the RGW session")


@pytest.fixture
def hyperstore(voss):
    f = HyperStoreAdmin(voss.rgw.admin)
    yield f
    f.stop()


@pytest.fixture
def ecs(voss):
    f = ECSManagement(voss.rgw.admin)
    yield f
    f.stop()


def out(r):
    return r.stdout + r.stderr


def test_cloudian_commands_provisioning_and_data(voss, hyperstore, new_bucket):
    k = voss.k
    # Bad input first: nothing is saved.
    r = k.ose("cloudian", "admin", "set", "--url", hyperstore.url, "--user", "sysadmin", "--secret", "weak")
    assert r.returncode == 1 and "--force" in out(r), out(r)
    r = k.ose("cloudian", "admin", "set", "--url", hyperstore.url, "--user", "sysadmin", "--secret", "Wrong-pw1!")
    assert r.returncode == 1 and "refused the system admin" in out(r), out(r)
    r = k.ose("cloudian", "admin", "set", "--url", f"http://127.0.0.1:{free_port()}", "--user", "sysadmin", "--secret", "Admin-pw1!")
    assert r.returncode == 1 and "not usable" in out(r), out(r)
    r = k.ose("cloudian", "admin", "set", "--url", "ftp://nope", "--user", "sysadmin", "--secret", "Admin-pw1!")
    assert r.returncode == 1
    assert "not configured" in k.ose("cloudian", "show").stdout
    # The reference's commands, as written there.
    k.ose("cloudian", "admin", "set", "--url", hyperstore.url, "--user", "sysadmin", "--secret", "Admin-pw1!", check=True)
    k.ose("cloudian", "s3", "set", voss.rgw.endpoint, "--region", voss.rgw.region, check=True)
    k.ose("cloudian", "iam", "set", hyperstore.url, check=True)
    k.ose("cloudian", "console", "set", "--url", hyperstore.url, "--user", "admin", "--secret", "Console-pw1!", check=True)
    shown = k.ose("cloudian", "show", check=True).stdout
    assert "[Cloudian Admin]\n    URL: " + hyperstore.url + "\n    username: sysadmin" in shown, shown
    assert "[Cloudian S3]" in shown and "[Cloudian IAM]" in shown and "Admin-pw1!" not in shown
    assert "Admin-pw1!" in k.ose("cloudian", "show", "--with-secret", check=True).stdout
    wait_for(lambda: "cloudian" in k.ose("platforms", "show").stdout, 10, what="cloudian platform")

    s3 = voss.client(("initech", "peter"))
    b = new_bucket(s3, CreateBucketConfiguration={"LocationConstraint": "cloudian"})
    assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] == "cloudian"
    s3.put_object(Bucket=b, Key="tps-report", Body=b"cover sheet")
    assert s3.get_object(Bucket=b, Key="tps-report")["Body"].read() == b"cover sheet"
    tid = voss.identity("initech", "peter").tenant_id
    group = f"voss-{tid}"
    calls = [(m, p) for m, p, _ in hyperstore.requests]
    for want in [("PUT", "/group"), ("PUT", "/user"), ("PUT", "/user/credentials")]:
        assert want in calls, calls
    # The bytes are in the group's bucket on the S3 service, owned by the user HyperStore made.
    assert voss.rgw.admin("bucket", "stats", "--bucket", group)["owner"] == f"hs-{group}-voss"
    rows = voss.column(f"SELECT o.storage FROM objects o JOIN buckets b ON b.id = o.bucket_id WHERE b.name = '{b}'")
    (blob,) = [p["blob"] for p in json.loads(rows[0])["pieces"]]
    assert blob.startswith(f"cloudian:{tid}:")
    assert blob.split(":")[2] in {o["name"] for o in voss.rgw.admin("bucket", "list", "--bucket", group)}
    # A second bucket of the same tenant reuses the account: no new group, user or credentials.
    before = len(hyperstore.requests)
    new_bucket(s3, CreateBucketConfiguration={"LocationConstraint": "cloudian"})
    assert [r for r in hyperstore.requests[before:] if r[0] == "PUT"] == []


def test_ecs_commands_provisioning_and_data(voss, ecs, new_bucket):
    k = voss.k
    r = k.ose("ecs", "admin", "set", "--url", ecs.url, "--user", "root", "--secret", "Wrong-pw1!")
    assert r.returncode == 1 and "refused the user name or password" in out(r), out(r)
    k.ose("ecs", "admin", "set", "--url", ecs.url, "--user", "root", "--secret", "Admin-pw1!", check=True)
    k.ose("ecs", "console", "set", "--url", ecs.url, "--user", "admin", "--secret", "Console-pw1!", check=True)
    k.ose("ecs", "s3", "set", voss.rgw.endpoint, "--region", voss.rgw.region, check=True)
    r = k.ose("ecs", "iam", "set", ecs.url)
    assert r.returncode == 2  # ECS has no IAM service in the reference
    shown = k.ose("ecs", "show", check=True).stdout
    assert shown.startswith("[ECS Admin]\n    URL: " + ecs.url + "\n    username: root\n[ECS Console]"), shown
    assert "[ECS S3]\n    URL: " + voss.rgw.endpoint in shown
    info = json.loads(k.ose("--json", "ecs", "show", check=True).stdout)
    assert info["admin"]["user"] == "root" and "secret" not in info["admin"]
    wait_for(lambda: "ecs" in k.ose("platforms", "show").stdout, 10, what="ecs platform")

    s3 = voss.client(("umbrella", "alice"))
    b = new_bucket(s3, CreateBucketConfiguration={"LocationConstraint": "ecs"})
    s3.put_object(Bucket=b, Key="t-virus", Body=b"x" * 70000)
    assert s3.get_object(Bucket=b, Key="t-virus")["Body"].read() == b"x" * 70000
    tid = voss.identity("umbrella", "alice").tenant_id
    ns = f"voss-{tid}"
    assert ns in ecs.namespaces and (ns, ns) in ecs.users and (ns, ns) in ecs.keys
    assert voss.rgw.admin("bucket", "stats", "--bucket", ns)["owner"] == f"ecs-{ns}"
    # `ose platforms enable ecs` makes it the default for new buckets; back to ceph afterwards.
    k.ose("platforms", "enable", "ecs", check=True)
    try:
        b2 = new_bucket(s3)
        wait_for(lambda: s3.get_bucket_location(Bucket=b2)["LocationConstraint"] in ("ecs", None), 5)
    finally:
        k.ose("platforms", "enable", "ceph", check=True)


def test_a_provisioning_that_fails_half_way_is_finished_by_the_next_attempt(voss, hyperstore, new_bucket):
    k = voss.k
    k.ose("cloudian", "admin", "set", "--url", hyperstore.url, "--user", "sysadmin", "--secret", "Admin-pw1!", check=True)
    k.ose("cloudian", "s3", "set", voss.rgw.endpoint, "--region", voss.rgw.region, check=True)
    wait_for(lambda: "cloudian" in k.ose("platforms", "show").stdout, 10, what="cloudian platform")
    s3 = voss.client(("halfway", "hal"), retries={"mode": "standard", "total_max_attempts": 1})  # no SDK retry
    # The group and the user are made, then the credentials call fails: the client is told to retry.
    hyperstore.fail[("PUT", "/user/credentials")] = 1
    from botocore.exceptions import ClientError
    name = f"halfway-{free_port()}"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "cloudian"})
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503), e.value.response
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=name)  # nothing half made on VOSS's side
    # The retry finds the group and the user and makes only what is missing.
    b = new_bucket(s3, name=name, CreateBucketConfiguration={"LocationConstraint": "cloudian"})
    s3.put_object(Bucket=b, Key="k", Body=b"v")
    assert s3.get_object(Bucket=b, Key="k")["Body"].read() == b"v"
    puts = [(m, p) for m, p, _ in hyperstore.requests if m == "PUT"]
    assert puts.count(("PUT", "/group")) == 1 and puts.count(("PUT", "/user")) == 1, puts
    assert puts.count(("PUT", "/user/credentials")) == 2, puts
