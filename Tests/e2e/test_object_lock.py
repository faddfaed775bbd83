"""Object lock with boto3: a bucket created with it, default retention, GOVERNANCE (bypassable by
the owner) and COMPLIANCE retention, legal holds, and deletes refused as S3 refuses them."""
import datetime

import pytest
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


def later(days=1):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)


@pytest.fixture
def locked(new_bucket, s3):
    return new_bucket(s3, ObjectLockEnabledForBucket=True)


def test_a_locked_bucket_is_versioned_and_keeps_locked_versions(s3, locked):
    assert s3.get_bucket_versioning(Bucket=locked)["Status"] == "Enabled"
    assert s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    v = s3.put_object(Bucket=locked, Key="k", Body=b"keep", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later())["VersionId"]
    head = s3.head_object(Bucket=locked, Key="k")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockLegalHoldStatus"] == "OFF"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked, Key="k", VersionId=v)
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked, Key="k", VersionId=v, BypassGovernanceRetention=True)
    assert code(e) == "AccessDenied"
    # COMPLIANCE cannot be shortened or weakened; it can be extended.
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="k", VersionId=v, Retention={"Mode": "GOVERNANCE", "RetainUntilDate": later(2)})
    assert code(e) == "AccessDenied"
    s3.put_object_retention(Bucket=locked, Key="k", VersionId=v, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later(3)})
    assert s3.get_object_retention(Bucket=locked, Key="k", VersionId=v)["Retention"]["Mode"] == "COMPLIANCE"
    # A plain delete only adds a marker; the version stays readable.
    assert s3.delete_object(Bucket=locked, Key="k")["DeleteMarker"] is True
    assert s3.get_object(Bucket=locked, Key="k", VersionId=v)["Body"].read() == b"keep"
    r = s3.delete_objects(Bucket=locked, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert r["Errors"][0]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_versioning(Bucket=locked, VersioningConfiguration={"Status": "Suspended"})
    assert code(e) == "InvalidBucketState"


def test_governance_is_bypassed_by_the_owner_and_legal_hold_is_not(s3, locked):
    v = s3.put_object(Bucket=locked, Key="g", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later())["VersionId"]
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked, Key="g", VersionId=v)
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.put_object_retention(Bucket=locked, Key="g", VersionId=v, Retention={})
    assert code(e) == "AccessDenied"
    s3.put_object_legal_hold(Bucket=locked, Key="g", VersionId=v, LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=locked, Key="g", VersionId=v)["LegalHold"]["Status"] == "ON"
    with pytest.raises(ClientError) as e:
        s3.delete_object(Bucket=locked, Key="g", VersionId=v, BypassGovernanceRetention=True)
    assert code(e) == "AccessDenied"
    s3.put_object_legal_hold(Bucket=locked, Key="g", VersionId=v, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=locked, Key="g", VersionId=v, BypassGovernanceRetention=True)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=locked, Key="g", VersionId=v)
    assert code(e) == "NoSuchVersion"


def test_default_retention_applies_to_new_versions(s3, locked):
    s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 2}}})
    rule = s3.get_object_lock_configuration(Bucket=locked)["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert rule == {"Mode": "GOVERNANCE", "Days": 2}
    s3.put_object(Bucket=locked, Key="d", Body=b"x")
    until = s3.get_object_retention(Bucket=locked, Key="d")["Retention"]["RetainUntilDate"]
    assert later(1) < until < later(3)
    up = s3.create_multipart_upload(Bucket=locked, Key="m")
    part = s3.upload_part(Bucket=locked, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=b"y")
    s3.complete_multipart_upload(Bucket=locked, Key="m", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert s3.head_object(Bucket=locked, Key="m")["ObjectLockMode"] == "GOVERNANCE"
    # Explicit lock headers on the upload win over the default.
    up = s3.create_multipart_upload(Bucket=locked, Key="c", ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=later(5),
                                    ObjectLockLegalHoldStatus="ON")
    part = s3.upload_part(Bucket=locked, Key="c", UploadId=up["UploadId"], PartNumber=1, Body=b"z")
    s3.complete_multipart_upload(Bucket=locked, Key="c", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    head = s3.head_object(Bucket=locked, Key="c")
    assert head["ObjectLockMode"] == "COMPLIANCE" and head["ObjectLockLegalHoldStatus"] == "ON"
    assert later(4) < head["ObjectLockRetainUntilDate"] < later(6)


def test_lock_requests_on_a_bucket_without_lock(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=later())
    assert code(e) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        s3.get_object_lock_configuration(Bucket=bucket)
    assert code(e) == "ObjectLockConfigurationNotFoundError"
    with pytest.raises(ClientError) as e:  # versioning must be on first
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert code(e) == "InvalidBucketState"


def test_bad_lock_input(s3, locked):
    for kw in ({"ObjectLockMode": "FOREVER", "ObjectLockRetainUntilDate": later()},
               {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": later(-1)},
               {"ObjectLockLegalHoldStatus": "MAYBE"}):
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=locked, Key="bad", Body=b"x", **kw)
        assert code(e) == "InvalidArgument", kw
    with pytest.raises(ClientError) as e:
        s3.put_object_lock_configuration(Bucket=locked, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1, "Years": 1}}})
    assert code(e) in ("InvalidArgument", "MalformedXML")
    assert "bad" not in [v["Key"] for v in s3.list_object_versions(Bucket=locked).get("Versions", [])]
