"""Details a new user meets, each as AWS documents it: the extra elements of error bodies (s3cmd's
default configuration relies on `<Region>`), a retried CompleteMultipartUpload, non-ASCII metadata,
an empty delimiter, conditional writes and `x-amz-expected-bucket-owner`."""
import base64
import hashlib
import os
import shutil
import subprocess
import uuid

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


def signed(voss, method, bucket, key="", body=b"", headers=None, region="us-east-1", secret=None, query=""):
    ident = voss.identity("acme", "alice")
    url = f"{voss.http}/{bucket}/{key}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    req.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
    SigV4Auth(Credentials(ident.access_key, secret or ident.secret), "s3", region).add_auth(req)
    # Header values go out as UTF-8 bytes, as Go's and Java's HTTP clients send them.
    sent = {k: (v.encode() if any(ord(c) > 127 for c in v) else v) for k, v in req.headers.items()}
    return requests.request(method, url, data=body, headers=sent)


def test_a_wrong_region_names_the_right_one(voss, bucket):
    r = signed(voss, "GET", bucket, region="US")
    assert r.status_code == 400 and "<Code>AuthorizationHeaderMalformed</Code>" in r.text
    assert "<Region>us-east-1</Region>" in r.text


def test_signature_errors_carry_what_aws_sends(voss, bucket):
    r = signed(voss, "GET", bucket, secret="wrong")
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    for element in ("AWSAccessKeyId", "StringToSign", "SignatureProvided", "CanonicalRequest"):
        assert f"<{element}>" in r.text
    assert "AWS4-HMAC-SHA256" in r.text


@pytest.mark.skipif(shutil.which("s3cmd") is None, reason="s3cmd not installed")
def test_s3cmd_with_its_default_region(voss, tmp_path):
    """s3cmd's default configuration signs for region `US`; it retries with the <Region> of the error."""
    cfg = voss.s3cmd_config(tmp_path / "s3cfg")
    (tmp_path / "f").write_text("hello\n")
    b = f"s3cmd-us-{uuid.uuid4().hex[:6]}"
    s3cmd = ["s3cmd", "-c", str(cfg)]
    for cmd in (["mb", f"s3://{b}"], ["put", str(tmp_path / "f"), f"s3://{b}/f"], ["ls", f"s3://{b}"],
                ["get", f"s3://{b}/f", str(tmp_path / "back")], ["del", f"s3://{b}/f"], ["rb", f"s3://{b}"]):
        r = subprocess.run(s3cmd + cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{cmd}: {r.stdout}\n{r.stderr}"
    assert (tmp_path / "back").read_text() == "hello\n"


def test_a_retried_complete_multipart_upload_succeeds(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="big")
    part = s3.upload_part(Bucket=bucket, Key="big", UploadId=up["UploadId"], PartNumber=1, Body=b"x" * 100)
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up["UploadId"], MultipartUpload=parts)
    again = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up["UploadId"], MultipartUpload=parts)
    assert again["ETag"] == first["ETag"] and again["Key"] == "big"
    # Once the key holds another object, the upload is gone for good.
    s3.put_object(Bucket=bucket, Key="big", Body=b"other")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=up["UploadId"], MultipartUpload=parts)
    assert code(e) == "NoSuchUpload"


def test_non_ascii_metadata_is_stored_and_returned_as_aws_does(voss, s3, bucket):
    # Sent as UTF-8 bytes: returned as an RFC 2047 word (AWS's documented behaviour).
    r = signed(voss, "PUT", bucket, "raw", b"x", {"x-amz-meta-name": "héllo ✓"})
    assert r.status_code == 200, r.text
    got = s3.head_object(Bucket=bucket, Key="raw")["Metadata"]["name"]
    assert got == "=?UTF-8?B?" + base64.b64encode("héllo ✓".encode()).decode() + "?="
    # Sent as an RFC 2047 word: decoded when stored, so counted and returned the same way.
    word = "=?UTF-8?Q?h=C3=A9llo?="
    s3.put_object(Bucket=bucket, Key="word", Body=b"x", Metadata={"name": word})
    assert s3.head_object(Bucket=bucket, Key="word")["Metadata"]["name"] == "=?UTF-8?B?aMOpbGxv?="
    # ASCII stays as it is.
    s3.put_object(Bucket=bucket, Key="ascii", Body=b"x", Metadata={"name": "plain =? text"})
    assert s3.head_object(Bucket=bucket, Key="ascii")["Metadata"]["name"] == "plain =? text"


def test_an_empty_delimiter_is_no_delimiter(s3, bucket):
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"x")
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="")
    assert "Delimiter" not in r and [o["Key"] for o in r["Contents"]] == ["a/b"]
    r = s3.list_objects(Bucket=bucket, Delimiter="")
    assert "Delimiter" not in r and "NextMarker" not in r


def test_conditional_writes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfNoneMatch="*")
    assert code(e) == "PreconditionFailed"
    etag = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert code(e) == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="absent", Body=b"two", IfMatch=etag)
    assert code(e) == "NoSuchKey"
    s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"two"

    up = s3.create_multipart_upload(Bucket=bucket, Key="k")
    part = s3.upload_part(Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=1, Body=b"three")
    parts = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"], MultipartUpload=parts, IfNoneMatch="*")
    assert code(e) == "PreconditionFailed"
    current = s3.head_object(Bucket=bucket, Key="k")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"], MultipartUpload=parts, IfMatch=current)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"three"


def test_expected_bucket_owner(voss, s3, bucket):
    owner = voss.identity("acme", "alice").tenant_id
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ExpectedBucketOwner=owner)
    assert s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner=owner)["Body"].read() == b"x"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k", ExpectedBucketOwner="123456789012")
    assert code(e) == "AccessDenied"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "k"}, ExpectedSourceBucketOwner="123456789012")
    assert code(e) == "AccessDenied"


def test_cors_rules_preflight_and_actual_requests(voss, s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert code(e) == "NoSuchCORSConfiguration"
    url = f"{voss.http}/{bucket}/k"
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "content-type, x-amz-date"}
    assert requests.options(url, headers=pre).status_code == 403  # no rules yet
    rules = {"CORSRules": [{"AllowedOrigins": ["https://*.example.com"], "AllowedMethods": ["GET", "PUT"],
                            "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300}]}
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=rules)
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedOrigins"] == ["https://*.example.com"]
    r = requests.options(url, headers=pre)
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, PUT" and r.headers["Access-Control-Max-Age"] == "300"
    assert "x-amz-date" in r.headers["Access-Control-Allow-Headers"]
    assert requests.options(url, headers=dict(pre, Origin="https://evil.org")).status_code == 403
    assert requests.options(url, headers=dict(pre, **{"Access-Control-Request-Method": "DELETE"})).status_code == 403
    assert requests.options(url).status_code == 400  # no Origin
    # The actual request (signed) carries the headers, on success and on error.
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    ok = signed(voss, "GET", bucket, "k", headers={"Origin": "https://app.example.com"})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert ok.headers["Access-Control-Expose-Headers"] == "ETag"
    missing = signed(voss, "GET", bucket, "nope", headers={"Origin": "https://app.example.com"})
    assert missing.status_code == 404 and missing.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    other = signed(voss, "GET", bucket, "k", headers={"Origin": "https://evil.org"})
    assert "Access-Control-Allow-Origin" not in other.headers
    # Bad documents change nothing.
    bad = signed(voss, "PUT", bucket, body=b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin>"
                 b"<AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>", query="cors")
    assert bad.status_code == 400 and "<Code>InvalidRequest</Code>" in bad.text
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"][0]["AllowedMethods"] == ["GET", "PUT"]
    s3.delete_bucket_cors(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket=bucket)
    assert code(e) == "NoSuchCORSConfiguration"


def test_an_object_sent_without_a_checksum_gets_crc64nvme(voss, s3, bucket):
    import zlib  # noqa: F401  (the value itself is checked by the unit tests of VossChecksums)
    r = signed(voss, "PUT", bucket, "plain", b"hello world")
    assert r.status_code == 200 and "x-amz-checksum-crc64nvme" in r.headers
    head = s3.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == r.headers["x-amz-checksum-crc64nvme"] and head["ChecksumType"] == "FULL_OBJECT"


def test_a_multipart_object_sent_without_checksums_gets_a_full_object_crc64nvme(voss, bucket):
    """As S3 does since 2025: the parts' CRC64NVMEs are combined into the whole object's. The value
    must equal the one a single PUT of the same bytes gets (computed over the whole body)."""
    plain = voss.client(request_checksum_calculation="when_required", response_checksum_validation="when_required")
    parts_data = [os.urandom(5 * 1024 * 1024), os.urandom(12345)]
    up = plain.create_multipart_upload(Bucket=bucket, Key="mp")
    parts = []
    for n, d in enumerate(parts_data, 1):
        p = plain.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=d)
        parts.append({"PartNumber": n, "ETag": p["ETag"]})
    done = plain.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    assert done["ChecksumType"] == "FULL_OBJECT" and done["ETag"].endswith('-2"')
    r = signed(voss, "PUT", bucket, "whole", b"".join(parts_data))
    assert r.status_code == 200
    head = plain.head_object(Bucket=bucket, Key="mp", ChecksumMode="ENABLED")
    assert head["ChecksumCRC64NVME"] == done["ChecksumCRC64NVME"] == r.headers["x-amz-checksum-crc64nvme"]


def test_get_object_attributes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="one", Body=b"12345", ChecksumAlgorithm="SHA256")
    a = s3.get_object_attributes(Bucket=bucket, Key="one", ObjectAttributes=["ETag", "Checksum", "ObjectSize", "StorageClass"])
    assert a["ObjectSize"] == 5 and a["StorageClass"] == "STANDARD" and "ChecksumSHA256" in a["Checksum"]
    assert a["ETag"] == s3.head_object(Bucket=bucket, Key="one")["ETag"].strip('"')
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    parts = []
    for n, size in ((1, 5 << 20), (2, 100)):
        p = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=b"x" * size)
        parts.append({"PartNumber": n, "ETag": p["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    a = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=1)
    op = a["ObjectParts"]
    assert op["TotalPartsCount"] == 2 and op["IsTruncated"] is True and op["Parts"][0]["Size"] == 5 << 20
    # Parts uploaded with a checksum keep it, listed per part.
    up = s3.create_multipart_upload(Bucket=bucket, Key="summed", ChecksumAlgorithm="SHA256")
    parts = []
    for n, size in ((1, 5 << 20), (2, 100)):
        p = s3.upload_part(Bucket=bucket, Key="summed", UploadId=up["UploadId"], PartNumber=n, Body=b"y" * size, ChecksumAlgorithm="SHA256")
        parts.append({"PartNumber": n, "ETag": p["ETag"], "ChecksumSHA256": p["ChecksumSHA256"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="summed", UploadId=up["UploadId"], MultipartUpload={"Parts": parts})
    a = s3.get_object_attributes(Bucket=bucket, Key="summed", ObjectAttributes=["ObjectParts"])
    assert [p["ChecksumSHA256"] for p in a["ObjectParts"]["Parts"]] == [p["ChecksumSHA256"] for p in parts]
    assert a["ObjectParts"]["Parts"][1]["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(b"y" * 100).digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.get_object_attributes(Bucket=bucket, Key="one", ObjectAttributes=["Colour"])
    assert code(e) == "InvalidArgument"
