"""Lifecycle with boto3 against the real gateway: the configuration as S3 answers it, and the
gateway's runner carrying it out (a rule whose date has passed expires objects at the next run;
`s3.lifecycle_interval` set to 1 s for the test). Rules by days are tested with an injected clock in
`LifecycleSweepTests`."""
import time

import pytest
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


@pytest.fixture
def fast_lifecycle(voss):
    voss.ose("args", "set", "--k", "s3.lifecycle_interval", "--v", "1", check=True)
    yield
    voss.ose("args", "del", "--k", "s3.lifecycle_interval", check=True)


def wait(predicate, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if predicate():
            return True
        time.sleep(0.5)
    return False


def test_configuration_round_trip_and_errors(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(e) == "NoSuchLifecycleConfiguration"
    rules = [{"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30},
              "NoncurrentVersionExpiration": {"NoncurrentDays": 7}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got == rules
    for bad in ({"ID": "x", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 0}},
                {"ID": "x", "Filter": {"Prefix": ""}, "Status": "Enabled"},
                {"ID": "x", "Filter": {"Prefix": ""}, "Status": "Enabled", "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}):
        with pytest.raises(ClientError) as e:
            s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [bad]})
        assert code(e) in ("InvalidArgument", "InvalidRequest", "InvalidStorageClass", "MalformedXML")
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == rules  # unchanged
    s3.delete_bucket_lifecycle(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(e) == "NoSuchLifecycleConfiguration"


def test_the_gateway_expires_objects(s3, new_bucket, fast_lifecycle):
    plain = new_bucket(s3)
    versioned = new_bucket(s3)
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
    for b in (plain, versioned):
        s3.put_object(Bucket=b, Key="tmp/a", Body=b"a")
        s3.put_object(Bucket=b, Key="keep/b", Body=b"b")
        s3.put_bucket_lifecycle_configuration(Bucket=b, LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled", "Expiration": {"Date": "2020-01-01T00:00:00Z"}}]})

    def keys(b):
        return [o["Key"] for o in s3.list_objects_v2(Bucket=b).get("Contents", [])]

    assert wait(lambda: keys(plain) == ["keep/b"] and keys(versioned) == ["keep/b"]), (keys(plain), keys(versioned))
    # In the versioned bucket the object is hidden by a delete marker, its data kept.
    v = s3.list_object_versions(Bucket=versioned, Prefix="tmp/")
    assert len(v["Versions"]) == 1 and v["DeleteMarkers"][0]["IsLatest"] is True
