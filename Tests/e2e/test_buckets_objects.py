"""Buckets and objects with boto3: the operations, their headers, and their errors."""
import datetime
import hashlib
import os
import time

import pytest
import requests
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


def status(e):
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_bucket_lifecycle(voss, scheme, new_bucket):
    s3 = voss.client(scheme=scheme)
    b = new_bucket(s3)
    assert b in [x["Name"] for x in s3.list_buckets()["Buckets"]]
    s3.head_bucket(Bucket=b)
    assert s3.get_bucket_location(Bucket=b)["LocationConstraint"] == voss.location
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=b)
    assert code(e) == "BucketAlreadyOwnedByYou" and status(e) == 409
    s3.put_object(Bucket=b, Key="x", Body=b"1")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=b)
    assert code(e) == "BucketNotEmpty" and status(e) == 409
    s3.delete_object(Bucket=b, Key="x")
    s3.delete_bucket(Bucket=b)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=b)
    assert status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket=b)
    assert code(e) == "NoSuchBucket"


@pytest.mark.parametrize("name", ["ab", "UpperCase", "with_underscore", "-leading", "a..b", "192.168.0.1", "api", "x" * 64])
def test_invalid_bucket_names(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert code(e) == "InvalidBucketName"


def test_bucket_name_taken_by_another_tenant(voss, new_bucket):
    b = new_bucket(voss.client(("acme", "alice")))
    with pytest.raises(ClientError) as e:
        voss.client(("globex", "carol")).create_bucket(Bucket=b)
    assert code(e) == "BucketAlreadyExists"


def test_location_constraint_must_match_the_region(voss, new_bucket):
    s3 = voss.client()
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="wrong-region-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert code(e) == "IllegalLocationConstraintException"


def test_put_get_head_delete_with_metadata_and_content_headers(voss, scheme, new_bucket):
    s3 = voss.client(scheme=scheme)
    b = new_bucket(s3)
    body = os.urandom(100_000)
    put = s3.put_object(
        Bucket=b, Key="dir/file.bin", Body=body, ContentType="application/x-test", ContentDisposition="attachment",
        CacheControl="max-age=60", ContentLanguage="de", Metadata={"color": "blue", "Size": "L"})
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    got = s3.get_object(Bucket=b, Key="dir/file.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-test"
    assert got["ContentDisposition"] == "attachment" and got["CacheControl"] == "max-age=60"
    assert got["ContentLanguage"] == "de"
    assert got["Metadata"] == {"color": "blue", "size": "L"}
    assert got["ETag"] == put["ETag"] and got["ContentLength"] == len(body)
    head = s3.head_object(Bucket=b, Key="dir/file.bin")
    assert head["ContentLength"] == len(body) and head["Metadata"]["color"] == "blue"
    assert abs(head["LastModified"] - datetime.datetime.now(datetime.timezone.utc)).total_seconds() < 60
    s3.delete_object(Bucket=b, Key="dir/file.bin")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=b, Key="dir/file.bin")
    assert code(e) == "NoSuchKey" and status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=b, Key="dir/file.bin")
    assert status(e) == 404
    s3.delete_object(Bucket=b, Key="never-existed")  # deleting a missing key is not an error


def test_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    r = s3.get_object(Bucket=bucket, Key="empty")
    assert r["Body"].read() == b"" and r["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_overwrite_replaces_the_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"first")
    s3.put_object(Bucket=bucket, Key="k", Body=b"second, longer")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second, longer"


@pytest.mark.parametrize("key", ["with space", "plus+sign", "percent%20literal", "unicode/中文/ü", "a//double/slash/", "~tilde!*'()", "question?mark", "hash#sign", "x" * 1024])
def test_unusual_keys_round_trip(s3, bucket, key):
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert key in keys


def test_key_too_long_and_metadata_too_large(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x")
    assert code(e) == "KeyTooLongError"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"big": "v" * 2100})
    assert code(e) == "MetadataTooLarge"


@pytest.mark.parametrize("rng,expected", [("bytes=0-9", (0, 10)), ("bytes=10-", (10, 100)), ("bytes=-5", (95, 100)), ("bytes=90-200", (90, 100))])
def test_ranges(voss, scheme, new_bucket, rng, expected):
    s3 = voss.client(scheme=scheme)
    b = new_bucket(s3)
    body = bytes(range(100))
    s3.put_object(Bucket=b, Key="r", Body=body)
    r = s3.get_object(Bucket=b, Key="r", Range=rng)
    assert r["Body"].read() == body[expected[0]:expected[1]]
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == f"bytes {expected[0]}-{expected[1] - 1}/100"


def test_large_range_uses_the_sendfile_path(voss, scheme, new_bucket):
    s3 = voss.client(scheme=scheme)
    b = new_bucket(s3)
    body = os.urandom(2 * 1024 * 1024 + 3)
    s3.put_object(Bucket=b, Key="big", Body=body)
    assert s3.get_object(Bucket=b, Key="big")["Body"].read() == body
    assert s3.get_object(Bucket=b, Key="big", Range="bytes=100000-1500000")["Body"].read() == body[100000:1500001]


def test_unsatisfiable_range(s3, bucket):
    s3.put_object(Bucket=bucket, Key="r", Body=b"abc")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-20")
    assert code(e) == "InvalidRange" and status(e) == 416


def test_conditional_gets(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")["ETag"]
    mtime = s3.head_object(Bucket=bucket, Key="c")["LastModified"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"conditional"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"nope"')
    assert status(e) == 412
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status(e) == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=mtime + datetime.timedelta(seconds=5))
    assert status(e) == 304
    s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=mtime - datetime.timedelta(minutes=5))
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=mtime - datetime.timedelta(minutes=5))
    assert status(e) == 412


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"{}", ContentType="text/plain")
    r = s3.get_object(
        Bucket=bucket, Key="o", ResponseContentType="application/json", ResponseContentDisposition="inline; filename=a.json",
        ResponseCacheControl="no-cache")
    assert r["ContentType"] == "application/json"
    assert r["ContentDisposition"] == "inline; filename=a.json" and r["CacheControl"] == "no-cache"


def test_copy_object_directives_and_conditions(s3, new_bucket):
    a, b = new_bucket(), new_bucket()
    src = s3.put_object(Bucket=a, Key="src", Body=b"payload", ContentType="text/x-a", Metadata={"m": "1"}, Tagging="t=1")
    r = s3.copy_object(Bucket=b, Key="dst", CopySource={"Bucket": a, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == src["ETag"]
    h = s3.head_object(Bucket=b, Key="dst")
    assert h["ContentType"] == "text/x-a" and h["Metadata"] == {"m": "1"}
    assert s3.get_object_tagging(Bucket=b, Key="dst")["TagSet"] == [{"Key": "t", "Value": "1"}]
    s3.copy_object(Bucket=b, Key="dst2", CopySource=f"{a}/src", MetadataDirective="REPLACE", ContentType="text/x-b", Metadata={"n": "2"})
    h = s3.head_object(Bucket=b, Key="dst2")
    assert h["ContentType"] == "text/x-b" and h["Metadata"] == {"n": "2"}
    assert s3.get_object(Bucket=b, Key="dst2")["Body"].read() == b"payload"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=b, Key="dst3", CopySource={"Bucket": a, "Key": "src"}, CopySourceIfMatch='"other"')
    assert code(e) == "PreconditionFailed"
    s3.copy_object(Bucket=b, Key="dst3", CopySource={"Bucket": a, "Key": "src"}, CopySourceIfMatch=src["ETag"])
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=a, Key="src", CopySource={"Bucket": a, "Key": "src"})
    assert code(e) == "InvalidRequest"
    s3.copy_object(Bucket=a, Key="src", CopySource={"Bucket": a, "Key": "src"}, MetadataDirective="REPLACE", Metadata={"x": "y"})
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=b, Key="d", CopySource={"Bucket": a, "Key": "missing"})
    assert code(e) == "NoSuchKey"


def test_object_and_bucket_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=two%20words")
    assert sorted((t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]) == [("a", "1"), ("b", "two words")]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "z", "Value": "9"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "z", "Value": "9"}]
    s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    with pytest.raises(ClientError) as e:
        s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]})
    assert status(e) == 400
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(e) == "NoSuchTagSet"
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "storage"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "team", "Value": "storage"}]
    s3.delete_bucket_tagging(Bucket=bucket)


def test_delete_objects(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"d/{i}", Body=b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"d/{i}"} for i in range(5)] + [{"Key": "absent"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted([f"d/{i}" for i in range(5)] + ["absent"])
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "x"}], "Quiet": True})
    assert "Deleted" not in r


def test_error_bodies_carry_code_message_resource_and_request_id(voss, s3, bucket):
    r = requests.get(voss.resource_url(bucket, "missing"))  # anonymous, private bucket
    assert r.status_code == 403
    assert "<Code>AccessDenied</Code>" in r.text and "<RequestId>" in r.text
    assert f"<Resource>/{bucket}/missing</Resource>" in r.text
    assert r.headers["x-amz-request-id"] in r.text
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="missing")
    assert e.value.response["Error"]["Key"] == "missing"
    assert e.value.response["ResponseMetadata"]["RequestId"]


def test_get_bucket_versioning_and_unimplemented_subresources(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_website(Bucket=bucket)
    assert code(e) == "NotImplemented" and status(e) == 501
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(e) == "NoSuchBucketPolicy"


def test_api_v1_s3_prefix_is_the_same_service(voss, bucket):
    import boto3
    from botocore.config import Config
    ident = voss.identity("acme", "alice")
    c = boto3.client("s3", endpoint_url=voss.http + "/api/v1/s3", aws_access_key_id=ident.access_key,
                     aws_secret_access_key=ident.secret, region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    c.put_object(Bucket=bucket, Key="via-api", Body=b"api")
    assert voss.client().get_object(Bucket=bucket, Key="via-api")["Body"].read() == b"api"
    assert c.get_object(Bucket=bucket, Key="via-api")["Body"].read() == b"api"


def test_virtual_hosted_style(voss, bucket):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    voss.ose("s3", "set", "--domain", "voss.test")
    try:
        voss.client().put_object(Bucket=bucket, Key="vh", Body=b"virtual")
        ident = voss.identity("acme", "alice")
        host = f"{bucket}.s3.voss.test:{voss.k.s3_http_port}"
        req = AWSRequest(method="GET", url=f"http://{host}/vh", headers={"Host": host})
        req.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        SigV4Auth(Credentials(ident.access_key, ident.secret), "s3", "us-east-1").add_auth(req)
        # Connect to 127.0.0.1 but say the virtual host name.
        hdrs = dict(req.headers.items())
        r = requests.get(f"{voss.http}/vh", headers=hdrs)
        assert r.status_code == 200 and r.content == b"virtual", r.text
    finally:
        voss.ose("s3", "set", "--domain", "")
