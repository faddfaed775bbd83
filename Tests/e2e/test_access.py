"""Who may do what: tenant isolation, canned ACLs, explicit grants, presigned URLs, SigV4 failures."""
import datetime
import time

import boto3
import pytest
import requests
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


@pytest.fixture
def acme(voss):
    return voss.client(("acme", "alice"))


@pytest.fixture
def globex(voss):
    return voss.client(("globex", "carol"))


def test_a_tenant_never_sees_another_tenants_buckets(voss, acme, globex, new_bucket):
    b = new_bucket(acme)
    acme.put_object(Bucket=b, Key="secret", Body=b"acme only")
    assert b not in [x["Name"] for x in globex.list_buckets()["Buckets"]]
    for call in (
        lambda: globex.list_objects_v2(Bucket=b),
        lambda: globex.list_objects(Bucket=b),
        lambda: globex.get_object(Bucket=b, Key="secret"),
        lambda: globex.head_object(Bucket=b, Key="secret"),
        lambda: globex.put_object(Bucket=b, Key="intruder", Body=b"x"),
        lambda: globex.delete_object(Bucket=b, Key="secret"),
        lambda: globex.delete_bucket(Bucket=b),
        lambda: globex.get_bucket_acl(Bucket=b),
        lambda: globex.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "secret"}),
        lambda: globex.create_multipart_upload(Bucket=b, Key="m"),
        lambda: globex.delete_objects(Bucket=b, Delete={"Objects": [{"Key": "secret"}]}),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.value.response
    # Nor can it copy out of it into its own bucket.
    g = new_bucket(globex)
    with pytest.raises(ClientError) as e:
        globex.copy_object(Bucket=g, Key="stolen", CopySource={"Bucket": b, "Key": "secret"})
    assert code(e) == "AccessDenied"
    assert acme.get_object(Bucket=b, Key="secret")["Body"].read() == b"acme only"


def test_users_of_one_tenant_share_a_bucket_once_granted(voss, acme, new_bucket):
    """Roles (SPEC.md §3): a tenant user acts on its own buckets and those granted to it."""
    b = new_bucket(acme)
    bob = voss.client(("acme", "bob"))
    with pytest.raises(ClientError) as e:
        bob.put_object(Bucket=b, Key="from-bob", Body=b"hi")
    assert code(e) == "AccessDenied"
    bob_id = next(u["id"] for u in __import__("json").loads(voss.ose("--json", "user", "list", "--tenant", "acme").stdout)["users"]
                  if u["name"] == "bob")
    acme.put_bucket_acl(Bucket=b, GrantWrite=f'id="{bob_id}"', GrantRead=f'id="{bob_id}"')
    bob.put_object(Bucket=b, Key="from-bob", Body=b"hi")
    assert acme.get_object(Bucket=b, Key="from-bob")["Body"].read() == b"hi"
    with pytest.raises(ClientError) as e:
        bob.delete_bucket(Bucket=b)  # a grant never gives configuration rights
    assert code(e) == "AccessDenied"


def test_explicit_grant_lets_another_tenant_read(voss, acme, globex, new_bucket):
    b = new_bucket(acme)
    acme.put_object(Bucket=b, Key="shared", Body=b"for globex")
    gid = voss.identity("globex", "carol").tenant_id
    acme.put_bucket_acl(Bucket=b, GrantRead=f'id="{gid}"')
    assert globex.get_object(Bucket=b, Key="shared")["Body"].read() == b"for globex"
    assert [o["Key"] for o in globex.list_objects_v2(Bucket=b)["Contents"]] == ["shared"]
    with pytest.raises(ClientError):
        globex.put_object(Bucket=b, Key="nope", Body=b"x")  # read grant only
    acl = acme.get_bucket_acl(Bucket=b)
    assert {g["Permission"] for g in acl["Grants"]} == {"FULL_CONTROL", "READ"}
    acme.put_bucket_acl(Bucket=b, ACL="private")
    with pytest.raises(ClientError):
        globex.get_object(Bucket=b, Key="shared")


def test_public_read_object_is_readable_anonymously_private_is_not(voss, acme, bucket):
    acme.put_object(Bucket=bucket, Key="public.txt", Body=b"hello world", ACL="public-read")
    acme.put_object(Bucket=bucket, Key="private.txt", Body=b"secret")
    r = requests.get(voss.resource_url(bucket, "public.txt"))
    assert r.status_code == 200 and r.content == b"hello world"
    r = requests.get(voss.resource_url(bucket, "private.txt"))
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    r = requests.get(voss.resource_url(bucket, ""))  # listing a private bucket
    assert r.status_code == 403
    r = requests.put(voss.resource_url(bucket, "anon.txt"), data=b"x")
    assert r.status_code == 403
    acl = acme.get_object_acl(Bucket=bucket, Key="public.txt")
    assert any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in acl["Grants"])
    acme.put_object_acl(Bucket=bucket, Key="public.txt", ACL="private")
    assert requests.get(voss.resource_url(bucket, "public.txt")).status_code == 403


def test_public_read_bucket_lists_anonymously(voss, acme, new_bucket):
    b = new_bucket(acme, ACL="public-read")
    acme.put_object(Bucket=b, Key="k", Body=b"v")
    r = requests.get(voss.resource_url(b, "") + "?list-type=2")
    assert r.status_code == 200 and "<Key>k</Key>" in r.text
    assert requests.get(voss.resource_url(b, "k")).content == b"v"


@pytest.mark.parametrize("version", ["default", "s3v4"])
def test_presigned_get_and_put(voss, scheme, acme, bucket, version):
    """boto3 presigns with SigV2 for non-AWS endpoints by default; s3v4 is the other form."""
    acme.put_object(Bucket=bucket, Key="p.txt", Body=b"presigned content")
    c = voss.client(scheme=scheme, **({"signature_version": "s3v4"} if version == "s3v4" else {}))
    url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "p.txt"}, ExpiresIn=300)
    assert ("X-Amz-Signature" in url) == (version == "s3v4")
    r = requests.get(url, verify=False)
    assert r.status_code == 200 and r.content == b"presigned content"
    put_url = c.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=300)
    assert requests.put(put_url, data=b"uploaded", verify=False).status_code == 200
    assert acme.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded"
    tampered = url.replace("p.txt", "up.txt")
    r = requests.get(tampered, verify=False)
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    # Bucket-level operations too (botocore signs the path-style /bucket as /bucket/ in SigV2).
    list_url = c.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket, "Prefix": "p"}, ExpiresIn=300)
    r = requests.get(list_url, verify=False)
    assert r.status_code == 200 and "<Key>p.txt</Key>" in r.text, r.text[:300]


@pytest.mark.parametrize("version", ["default", "s3v4"])
def test_presigned_urls_expire(voss, bucket, version):
    c = voss.client(**({"signature_version": "s3v4"} if version == "s3v4" else {}))
    c.put_object(Bucket=bucket, Key="e", Body=b"x")
    url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "e"}, ExpiresIn=1)
    time.sleep(2)
    r = requests.get(url)
    assert r.status_code == 403 and "Request has expired" in r.text


def test_sigv4_presigned_urls_live_at_most_seven_days(voss, bucket):
    c = voss.client(signature_version="s3v4")
    c.put_object(Bucket=bucket, Key="e", Body=b"x")
    assert requests.get(c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "e"}, ExpiresIn=7 * 86400)).status_code == 200
    r = requests.get(c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "e"}, ExpiresIn=7 * 86400 + 1))
    assert r.status_code == 400 and "AuthorizationQueryParametersError" in r.text


def test_wrong_secret_unknown_key_and_wrong_region(voss, bucket):
    ident = voss.identity("acme", "alice")

    def client(ak, sk, region="us-east-1"):
        return boto3.client("s3", endpoint_url=voss.http, aws_access_key_id=ak, aws_secret_access_key=sk, region_name=region,
                            config=Config(retries={"max_attempts": 1}))

    with pytest.raises(ClientError) as e:
        client(ident.access_key, "wrong" + ident.secret[5:]).list_objects_v2(Bucket=bucket)
    assert code(e) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        client("VOSSNOSUCHKEY0000000", "x").list_buckets()
    assert code(e) == "InvalidAccessKeyId"
    with pytest.raises(ClientError) as e:
        client(ident.access_key, ident.secret, region="eu-west-1").list_buckets()
    assert code(e) == "AuthorizationHeaderMalformed"


def test_clock_skew_beyond_15_minutes_is_rejected(voss, bucket):
    ident = voss.identity("acme", "alice")

    def request_at(offset):
        req = AWSRequest(method="GET", url=f"{voss.http}/{bucket}?list-type=2")
        auth = S3SigV4Auth(Credentials(ident.access_key, ident.secret), "s3", "us-east-1")
        when = datetime.datetime.now(datetime.timezone.utc) + offset
        auth._timestamp = lambda: when.strftime("%Y%m%dT%H%M%SZ")  # sign as if the client clock were off
        import botocore.auth as ba
        real = ba.datetime.datetime

        class Fake(real):
            @classmethod
            def utcnow(cls):
                return when.replace(tzinfo=None)

            @classmethod
            def now(cls, tz=None):
                return when if tz else when.replace(tzinfo=None)

        ba.datetime.datetime = Fake
        try:
            auth.add_auth(req)
        finally:
            ba.datetime.datetime = real
        return requests.get(req.url, headers=dict(req.headers.items()))

    assert request_at(datetime.timedelta(minutes=10)).status_code == 200
    r = request_at(datetime.timedelta(minutes=20))
    assert r.status_code == 403 and "RequestTimeTooSkewed" in r.text
    assert request_at(datetime.timedelta(minutes=-20)).status_code == 403


def test_deleted_key_stops_working(voss, new_bucket):
    voss.ose("user", "create", "--tenant", "acme", "--name", "temp")
    import json
    k = json.loads(voss.ose("--json", "key", "create", "--tenant", "acme", "--user", "temp").stdout)
    c = boto3.client("s3", endpoint_url=voss.http, aws_access_key_id=k["accessKey"], aws_secret_access_key=k["secret"],
                     region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    c.list_buckets()
    voss.ose("key", "delete", "--key", k["accessKey"])
    # The gateway that deleted it forgets it at once (other nodes within their 5 s cache).
    with pytest.raises(ClientError) as e:
        c.list_buckets()
    assert code(e) == "InvalidAccessKeyId"
