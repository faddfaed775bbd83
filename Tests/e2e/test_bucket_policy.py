"""Bucket policies with boto3: another tenant let in by a policy, anonymous reads, explicit denies
that win over ownership and ACLs, conditions on the client's address and on TLS, policy status,
and malformed policies refused with nothing changed."""
import json

import pytest
import requests
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


def put(s3, bucket, *statements):
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def test_a_policy_lets_another_tenant_read_and_nothing_more(voss, s3, bucket):
    s3.put_object(Bucket=bucket, Key="doc", Body=b"shared")
    other = voss.client(("globex", "gina"))
    with pytest.raises(ClientError) as e:
        other.get_object(Bucket=bucket, Key="doc")
    assert code(e) == "AccessDenied"
    tenant = voss.identity("globex", "gina").tenant_id
    put(s3, bucket, {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{tenant}:root"},
                     "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]})
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"][0]["Effect"] == "Allow"
    assert other.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    assert [o["Key"] for o in other.list_objects_v2(Bucket=bucket)["Contents"]] == ["doc"]
    with pytest.raises(ClientError) as e:
        other.put_object(Bucket=bucket, Key="doc", Body=b"mine now")
    assert code(e) == "AccessDenied"
    r = other.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "doc"}]})
    assert r["Errors"][0]["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="doc")["Body"].read() == b"shared"
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False


def test_anonymous_reads_and_public_status(voss, s3, bucket):
    s3.put_object(Bucket=bucket, Key="page.html", Body=b"<h1>hi</h1>")
    assert requests.get(voss.resource_url(bucket, "page.html")).status_code == 403
    put(s3, bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"})
    r = requests.get(voss.resource_url(bucket, "page.html"))
    assert r.status_code == 200 and r.content == b"<h1>hi</h1>"
    assert requests.get(voss.resource_url(bucket)).status_code == 403  # listing was not allowed
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_an_explicit_deny_wins_even_over_the_owner(voss, s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep/a", Body=b"a")
    put(s3, bucket, {"Effect": "Deny", "Principal": "*", "Action": ["s3:DeleteObject", "s3:PutObject"],
                     "Resource": f"arn:aws:s3:::{bucket}/keep/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})
    for call in (lambda: s3.delete_object(Bucket=bucket, Key="keep/a"), lambda: s3.put_object(Bucket=bucket, Key="keep/b", Body=b"b"),
                 lambda: s3.get_object(Bucket=bucket, Key="keep/a")):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "AccessDenied"
    assert s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "keep/a"}]})["Errors"][0]["Code"] == "AccessDenied"
    s3.put_object(Bucket=bucket, Key="other", Body=b"fine")  # not under keep/
    # The owner can always take the policy away again.
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="keep/a")["Body"].read() == b"a"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(e) == "NoSuchBucketPolicy"


def test_secure_transport_condition(voss, bucket):
    http, https = voss.client(), voss.client(scheme="https")
    put(http, bucket, {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                       "Resource": [f"arn:aws:s3:::{bucket}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    https.put_object(Bucket=bucket, Key="k", Body=b"over TLS")
    with pytest.raises(ClientError) as e:
        http.get_object(Bucket=bucket, Key="k")
    assert code(e) == "AccessDenied"
    assert https.get_object(Bucket=bucket, Key="k")["Body"].read() == b"over TLS"


@pytest.mark.parametrize("policy", [
    "not json",
    json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::elsewhere/*"}]}),
    json.dumps({"Statement": [{"Effect": "Perhaps", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]}),
])
def test_malformed_policies_change_nothing(s3, bucket, policy):
    with pytest.raises(ClientError) as e:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert code(e) == "MalformedPolicy"
    with pytest.raises(ClientError) as e:
        s3.get_bucket_policy(Bucket=bucket)
    assert code(e) == "NoSuchBucketPolicy"
