"""Versioning as S3 documents it, with boto3 and the AWS CLI: version ids on writes, reads and
deletes by version, delete markers, the null version of a suspended bucket, ListObjectVersions."""
import json
import shutil
import subprocess

import pytest
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


def status(e):
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def listing(s3, bucket, **kw):
    r = s3.list_object_versions(Bucket=bucket, **kw)
    out = [(v["Key"], v["VersionId"], v["IsLatest"], "v") for v in r.get("Versions", [])]
    out += [(d["Key"], d["VersionId"], d["IsLatest"], "m") for d in r.get("DeleteMarkers", [])]
    return r, out


def test_versions_are_kept_read_and_deleted_by_id(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"before")  # the null version
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and v1 != "null"
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["Body"].read() == b"two" and got["VersionId"] == v2
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"before"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["ContentLength"] == 3
    _, rows = listing(s3, bucket)
    assert rows == [("k", v2, True, "v"), ("k", v1, False, "v"), ("k", "null", False, "v")]

    # A delete puts a marker on top: the key reads as deleted, every version stays.
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True
    marker = d["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert code(e) == "NoSuchKey"
    assert e.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=marker)
    assert status(e) == 405 and code(e) == "MethodNotAllowed"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == []
    _, rows = listing(s3, bucket)
    assert ("k", marker, True, "m") in rows and ("k", v2, False, "v") in rows

    # Removing the marker brings the object back; removing a version for good leaves the others.
    r = s3.delete_object(Bucket=bucket, Key="k", VersionId=marker)
    assert r["DeleteMarker"] is True and r["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId=v2)
    assert code(e) == "NoSuchVersion"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", VersionId="not-a-version")
    assert code(e) == "InvalidArgument"
    # A bucket holding only old versions is not empty.
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=bucket)
    assert code(e) == "BucketNotEmpty"


def test_a_suspended_bucket_writes_and_deletes_the_null_version(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"null-1")
    assert r["VersionId"] == "null"
    s3.put_object(Bucket=bucket, Key="k", Body=b"null-2")  # replaces the null version
    _, rows = listing(s3, bucket)
    assert rows == [("k", "null", True, "v"), ("k", v1, False, "v")]
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"null-2"
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    _, rows = listing(s3, bucket)
    assert rows == [("k", v1, False, "v"), ("k", "null", True, "m")]


def test_copies_and_multipart_uploads_make_versions(s3, bucket):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="src", Body=b"first")["VersionId"]
    s3.put_object(Bucket=bucket, Key="src", Body=b"second")
    c = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert c["CopySourceVersionId"] == v1 and c["VersionId"] not in (None, "null")
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"first"
    up = s3.create_multipart_upload(Bucket=bucket, Key="dst")
    part = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=up["UploadId"], PartNumber=1,
                               CopySource={"Bucket": bucket, "Key": "src", "VersionId": v1})
    assert part["CopySourceVersionId"] == v1
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="dst", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"first"
    assert done["VersionId"] not in (c["VersionId"], "null")
    _, rows = listing(s3, bucket, Prefix="dst")
    assert [r[1] for r in rows] == [done["VersionId"], c["VersionId"]]
    # Tags of one version.
    s3.put_object_tagging(Bucket=bucket, Key="dst", VersionId=c["VersionId"], Tagging={"TagSet": [{"Key": "old", "Value": "yes"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="dst", VersionId=c["VersionId"])["TagSet"] == [{"Key": "old", "Value": "yes"}]
    assert s3.get_object_tagging(Bucket=bucket, Key="dst")["TagSet"] == []


def test_delete_objects_by_version_and_with_markers(s3, bucket):
    enable(s3, bucket)
    va = s3.put_object(Bucket=bucket, Key="a", Body=b"a")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a", "VersionId": va}, {"Key": "b"}]})
    deleted = {d["Key"]: d for d in r["Deleted"]}
    assert deleted["a"]["VersionId"] == va and "DeleteMarker" not in deleted["a"]
    assert deleted["b"]["DeleteMarker"] is True and deleted["b"]["DeleteMarkerVersionId"]
    _, rows = listing(s3, bucket)
    assert [(k, kind) for k, _, _, kind in rows] == [("b", "v"), ("b", "m")]


def test_listing_versions_pages_by_key_and_version(s3, bucket):
    enable(s3, bucket)
    made = {}
    for k in ["a", "b", "dir/x", "dir/y"]:
        made[k] = [s3.put_object(Bucket=bucket, Key=k, Body=k.encode())["VersionId"] for _ in range(3)]
    seen = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}):
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    assert seen == [(k, v) for k in ["a", "b", "dir/x", "dir/y"] for v in reversed(made[k])]
    r, rows = listing(s3, bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/"]
    assert [(k, latest) for k, _, latest, _ in rows] == [("a", True), ("a", False), ("a", False), ("b", True), ("b", False), ("b", False)]
    r, rows = listing(s3, bucket, KeyMarker="a", VersionIdMarker=made["a"][1], MaxKeys=2)
    assert [(k, v) for k, v, _, _ in rows] == [("a", made["a"][0]), ("b", made["b"][2])]
    assert r["IsTruncated"] and r["NextKeyMarker"] == "b" and r["NextVersionIdMarker"] == made["b"][2]
    with pytest.raises(ClientError) as e:
        s3.list_object_versions(Bucket=bucket, KeyMarker="a", VersionIdMarker="x" * 32)
    assert code(e) == "InvalidArgument"


def test_versioning_configuration_errors(s3, bucket, voss):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Sometimes"})
    assert code(e) == "MalformedXML"
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    other = voss.client(("other", "olga"))
    with pytest.raises(ClientError) as e:
        other.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert code(e) == "AccessDenied"


@pytest.mark.skipif(shutil.which("aws") is None, reason="AWS CLI not installed")
def test_aws_cli_versioning(voss, bucket, tmp_path):
    env = voss.aws_env()
    aws = ["aws", "--endpoint-url", voss.http, "s3api"]

    def run(*args):
        r = subprocess.run(aws + list(args), env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout) if r.stdout.strip() else {}

    run("put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled")
    assert run("get-bucket-versioning", "--bucket", bucket)["Status"] == "Enabled"
    (tmp_path / "f").write_bytes(b"data")
    v1 = run("put-object", "--bucket", bucket, "--key", "f", "--body", str(tmp_path / "f"))["VersionId"]
    run("put-object", "--bucket", bucket, "--key", "f", "--body", str(tmp_path / "f"))
    versions = run("list-object-versions", "--bucket", bucket)["Versions"]
    assert len(versions) == 2 and versions[1]["VersionId"] == v1
    run("delete-object", "--bucket", bucket, "--key", "f", "--version-id", v1)
    assert len(run("list-object-versions", "--bucket", bucket)["Versions"]) == 1
