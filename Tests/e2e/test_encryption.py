"""Server-side encryption with boto3 and the AWS CLI: SSE-S3 (per request and as a bucket's default),
SSE-C (customer keys, over TLS only), ranges, multipart uploads, copies between the kinds, the
errors S3 gives, and what lies on disk (ciphertext, never the plaintext)."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import uuid

import pytest
from botocore.exceptions import ClientError
from conftest import run

MiB = 1024 * 1024
# A plaintext that is easy to find on disk: if any encrypted object's bytes were stored as sent,
# this marker would be in a file under the data directory.
MARKER = b"VOSS-PLAINTEXT-MARKER-" + uuid.uuid4().hex.encode()


def code(e):
    return e.value.response["Error"]["Code"]


def status(e):
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def body(n, seed=b""):
    """n bytes that carry the marker many times over."""
    unit = MARKER + seed + b"|"
    return (unit * (n // len(unit) + 1))[:n]


def on_disk(voss, needle):
    """Whether `needle` is in any file under the local platform's directory, or in the bytes of a
    small object kept in the database (decision 50: encrypted ones are stored there as ciphertext)."""
    root = os.path.join(voss.k.dir, "lib", "objects")
    for d, _, names in os.walk(root):
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                if needle in f.read():
                    return True
    h = needle.hex()
    found = f"position('\\x{h}'::bytea in data) > 0" if voss.pg else f"instr(data, X'{h}') > 0"
    return voss.column(f"SELECT count(*) FROM inline_blobs WHERE {found}") != ["0"]


def customer_key():
    # 32 random printable bytes (boto3 takes a key as text where it does not compute the MD5 itself).
    k = base64.b64encode(os.urandom(32))[:32]
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": k}


def copy_source_key(k):
    return {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": k["SSECustomerKey"]}


@pytest.fixture
def tls(voss):
    return voss.client(scheme="https")


def test_sse_s3_round_trip_ranges_and_ciphertext_at_rest(voss, s3, bucket):
    data = body(300_000, b"s3")
    put = s3.put_object(Bucket=bucket, Key="enc", Body=data, ServerSideEncryption="AES256")
    assert put["ServerSideEncryption"] == "AES256"
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), "SSE-S3 keeps the MD5 ETag"
    got = s3.get_object(Bucket=bucket, Key="enc")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="enc")["ServerSideEncryption"] == "AES256"
    # Ranges that start and end inside AES blocks, and one that spans the whole object.
    for first, last in [(0, 0), (1, 16), (15, 33), (4095, 70_000), (len(data) - 7, len(data) - 1)]:
        r = s3.get_object(Bucket=bucket, Key="enc", Range=f"bytes={first}-{last}")["Body"].read()
        assert r == data[first:last + 1], (first, last)
    small = body(100, b"small")
    s3.put_object(Bucket=bucket, Key="small", Body=small, ServerSideEncryption="AES256")
    assert s3.get_object(Bucket=bucket, Key="small", Range="bytes=3-50")["Body"].read() == small[3:51]
    if voss.rgw is None:
        assert not on_disk(voss, MARKER), "an encrypted object's plaintext is on disk"
        # Past the inline size (16 KiB): its bytes go to a file (smaller ones live in the database).
        s3.put_object(Bucket=bucket, Key="plain", Body=body(30_000, b"plain"))
        assert on_disk(voss, MARKER + b"plain"), "the check finds a plaintext object (it can fail)"
        s3.delete_object(Bucket=bucket, Key="plain")
        s3.put_object(Bucket=bucket, Key="plain-small", Body=body(1000, b"tiny"))
        assert on_disk(voss, MARKER + b"tiny"), "the check finds a small plaintext object in the database"
        s3.delete_object(Bucket=bucket, Key="plain-small")
    # Listing and GetObjectAttributes are unchanged.
    assert {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]} == {"enc": len(data), "small": 100}


def test_unsupported_and_malformed_requests(s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="aws:kms")
    assert code(e) == "NotImplemented" and status(e) == 501
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", ServerSideEncryption="DES")
    assert code(e) == "InvalidArgument"
    # SSE-C is refused over plain HTTP, as S3 refuses it: the key would travel in clear.
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x", **customer_key())
    assert code(e) == "InvalidRequest"
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="k")


def test_bucket_default_encryption(voss, s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket=bucket)
    assert code(e) == "ServerSideEncryptionConfigurationNotFoundError"
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                                                      "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256" and rule["BucketKeyEnabled"] is True
    data = body(50_000, b"default")
    assert s3.put_object(Bucket=bucket, Key="d", Body=data)["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="d")["Body"].read() == data
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    assert up["ServerSideEncryption"] == "AES256"
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"])
    if voss.rgw is None:
        assert not on_disk(voss, MARKER + b"default")
    # KMS is not offered; a broken document changes nothing.
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})
    assert code(e) == "NotImplemented"
    with pytest.raises(ClientError) as e:
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "ROT13"}}]})
    assert code(e) == "MalformedXML"
    assert s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0][
        "ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    # Only the owner configures it.
    other = voss.client(("globex", "carol"))
    with pytest.raises(ClientError) as e:
        other.get_bucket_encryption(Bucket=bucket)
    assert code(e) == "AccessDenied"
    s3.delete_bucket_encryption(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_encryption(Bucket=bucket)
    assert code(e) == "ServerSideEncryptionConfigurationNotFoundError"
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="after", Body=b"plain")
    # Objects written while it was on stay encrypted and readable.
    assert s3.get_object(Bucket=bucket, Key="d")["ServerSideEncryption"] == "AES256"


def test_sse_c_round_trip_and_key_errors(voss, tls, bucket):
    k = customer_key()
    data = body(200_000, b"ssec")
    put = tls.put_object(Bucket=bucket, Key="c", Body=data, **k)
    md5 = base64.b64encode(hashlib.md5(k["SSECustomerKey"]).digest()).decode()
    assert put["SSECustomerAlgorithm"] == "AES256" and put["SSECustomerKeyMD5"] == md5
    assert put["ETag"] != '"%s"' % hashlib.md5(data).hexdigest(), "an SSE-C ETag says nothing about the plaintext"
    got = tls.get_object(Bucket=bucket, Key="c", **k)
    assert got["Body"].read() == data and got["SSECustomerKeyMD5"] == md5
    assert tls.get_object(Bucket=bucket, Key="c", Range="bytes=17-40000", **k)["Body"].read() == data[17:40001]
    assert tls.head_object(Bucket=bucket, Key="c", **k)["ContentLength"] == len(data)
    # Without the key, with another key, with a key that does not match its MD5.
    with pytest.raises(ClientError) as e:
        tls.get_object(Bucket=bucket, Key="c")
    assert code(e) == "InvalidRequest" and status(e) == 400
    with pytest.raises(ClientError) as e:
        tls.get_object(Bucket=bucket, Key="c", **customer_key())
    assert status(e) == 403
    with pytest.raises(ClientError) as e:
        tls.head_object(Bucket=bucket, Key="c", **customer_key())
    assert status(e) == 403
    with pytest.raises(ClientError) as e:
        tls.get_object(Bucket=bucket, Key="c", SSECustomerAlgorithm="AES256", SSECustomerKey=k["SSECustomerKey"].decode(),
                       SSECustomerKeyMD5=base64.b64encode(b"0" * 16).decode())
    assert code(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        tls.put_object(Bucket=bucket, Key="c2", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=os.urandom(16))
    assert code(e) == "InvalidArgument"
    with pytest.raises(ClientError) as e:
        tls.put_object(Bucket=bucket, Key="c2", Body=b"x", SSECustomerAlgorithm="AES128", SSECustomerKey=os.urandom(32))
    assert code(e) == "InvalidEncryptionAlgorithmError"
    # GetObjectAttributes needs the key too.
    with pytest.raises(ClientError) as e:
        tls.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ObjectSize"])
    assert code(e) == "InvalidRequest"
    # (boto3 does not encode the key for this operation: the headers are given as sent.)
    raw = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(k["SSECustomerKey"]).decode(), "SSECustomerKeyMD5": md5}
    assert tls.get_object_attributes(Bucket=bucket, Key="c", ObjectAttributes=["ObjectSize"], **raw)["ObjectSize"] == len(data)
    # A key sent for an object that is not SSE-C is refused, not ignored.
    tls.put_object(Bucket=bucket, Key="p", Body=b"plain")
    with pytest.raises(ClientError) as e:
        tls.get_object(Bucket=bucket, Key="p", **customer_key())
    assert code(e) == "InvalidRequest"
    if voss.rgw is None:
        assert not on_disk(voss, MARKER + b"ssec")
        # The key is never stored: it is nowhere in the metadata either.
        raw = "\n".join(voss.column("SELECT storage FROM objects WHERE key = 'c'"))
        assert base64.b64encode(k["SSECustomerKey"]).decode() not in raw and "SSE-C" in raw


def upload(client, bucket, key, parts, extra=None, part_extra=None):
    extra = extra or {}
    part_extra = part_extra if part_extra is not None else extra
    u = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    done = []
    for n, p in enumerate(parts, 1):
        r = client.upload_part(Bucket=bucket, Key=key, UploadId=u["UploadId"], PartNumber=n, Body=p, **part_extra)
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    return u, done


@pytest.mark.parametrize("kind", ["sse-s3", "sse-c"])
def test_multipart_upload(voss, tls, bucket, kind):
    k = customer_key()
    extra = {"ServerSideEncryption": "AES256"} if kind == "sse-s3" else k
    reads = {} if kind == "sse-s3" else k
    parts = [body(5 * MiB, b"p1"), body(5 * MiB + 3, b"p2"), body(1000, b"p3")]
    data = b"".join(parts)
    u, done = upload(tls, bucket, "mp", parts, extra, part_extra={} if kind == "sse-s3" else k)
    fin = tls.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=u["UploadId"], MultipartUpload={"Parts": done})
    assert fin["ETag"].endswith('-3"')
    got = tls.get_object(Bucket=bucket, Key="mp", **reads)
    assert got["Body"].read() == data
    assert (got.get("ServerSideEncryption") == "AES256") if kind == "sse-s3" else (got["SSECustomerAlgorithm"] == "AES256")
    # Across the part boundaries, and one part by number.
    b1 = len(parts[0])
    assert tls.get_object(Bucket=bucket, Key="mp", Range=f"bytes={b1 - 10}-{b1 + 10}", **reads)["Body"].read() == data[b1 - 10:b1 + 11]
    assert tls.get_object(Bucket=bucket, Key="mp", PartNumber=2, **reads)["Body"].read() == parts[1]
    if kind == "sse-c":
        # A part sent without the upload's key, or with another one, is refused.
        u2 = tls.create_multipart_upload(Bucket=bucket, Key="mp2", **k)
        with pytest.raises(ClientError) as e:
            tls.upload_part(Bucket=bucket, Key="mp2", UploadId=u2["UploadId"], PartNumber=1, Body=b"x")
        assert code(e) == "InvalidRequest"
        with pytest.raises(ClientError) as e:
            tls.upload_part(Bucket=bucket, Key="mp2", UploadId=u2["UploadId"], PartNumber=1, Body=b"x", **customer_key())
        assert status(e) == 403
        tls.abort_multipart_upload(Bucket=bucket, Key="mp2", UploadId=u2["UploadId"])
    if voss.rgw is None:
        assert not on_disk(voss, MARKER + b"p2")


def test_copies_between_kinds(voss, tls, bucket):
    k1, k2 = customer_key(), customer_key()
    data = body(100_000, b"copy")
    tls.put_object(Bucket=bucket, Key="src-c", Body=data, **k1)
    # SSE-C → SSE-S3, → plain, → SSE-C with another key; each reads back the same bytes.
    r = tls.copy_object(Bucket=bucket, Key="to-s3", CopySource={"Bucket": bucket, "Key": "src-c"}, ServerSideEncryption="AES256",
                        **copy_source_key(k1))
    assert r["ServerSideEncryption"] == "AES256"
    assert tls.get_object(Bucket=bucket, Key="to-s3")["Body"].read() == data
    tls.copy_object(Bucket=bucket, Key="to-c2", CopySource={"Bucket": bucket, "Key": "src-c"}, **copy_source_key(k1), **k2)
    assert tls.get_object(Bucket=bucket, Key="to-c2", **k2)["Body"].read() == data
    if voss.rgw is None:
        assert not on_disk(voss, MARKER + b"copy")
    tls.copy_object(Bucket=bucket, Key="to-plain", CopySource={"Bucket": bucket, "Key": "src-c"}, **copy_source_key(k1))
    plain = tls.get_object(Bucket=bucket, Key="to-plain")
    assert "ServerSideEncryption" not in plain and plain["Body"].read() == data
    # Copying an SSE-C source needs its key.
    with pytest.raises(ClientError) as e:
        tls.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src-c"})
    assert code(e) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        tls.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "src-c"}, **copy_source_key(k2))
    assert status(e) == 403
    # An object encrypted in place (copy onto itself with encryption asked for).
    mine = body(3000, b"self")
    tls.put_object(Bucket=bucket, Key="self", Body=mine)
    tls.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"}, ServerSideEncryption="AES256")
    assert tls.head_object(Bucket=bucket, Key="self")["ServerSideEncryption"] == "AES256"
    assert tls.get_object(Bucket=bucket, Key="self")["Body"].read() == mine
    # UploadPartCopy from an SSE-C source into an SSE-S3 upload, a range crossing AES blocks.
    u = tls.create_multipart_upload(Bucket=bucket, Key="pc", ServerSideEncryption="AES256")
    pc = tls.upload_part_copy(Bucket=bucket, Key="pc", UploadId=u["UploadId"], PartNumber=1,
                              CopySource={"Bucket": bucket, "Key": "src-c"}, CopySourceRange="bytes=5-70004", **copy_source_key(k1))
    tls.complete_multipart_upload(Bucket=bucket, Key="pc", UploadId=u["UploadId"],
                                  MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": pc["CopyPartResult"]["ETag"]}]})
    assert tls.get_object(Bucket=bucket, Key="pc")["Body"].read() == data[5:70005]


def test_versions_keep_their_encryption(tls, new_bucket):
    b = new_bucket(tls)
    tls.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    k = customer_key()
    v1 = tls.put_object(Bucket=b, Key="v", Body=b"one", **k)["VersionId"]
    v2 = tls.put_object(Bucket=b, Key="v", Body=b"two", ServerSideEncryption="AES256")["VersionId"]
    assert tls.get_object(Bucket=b, Key="v")["Body"].read() == b"two"
    assert tls.get_object(Bucket=b, Key="v", VersionId=v1, **k)["Body"].read() == b"one"
    with pytest.raises(ClientError) as e:
        tls.get_object(Bucket=b, Key="v", VersionId=v1)
    assert code(e) == "InvalidRequest"
    assert tls.get_object(Bucket=b, Key="v", VersionId=v2)["ServerSideEncryption"] == "AES256"


@pytest.mark.skipif(shutil.which("aws") is None, reason="AWS CLI not installed")
def test_aws_cli_sse(voss, tmp_path):
    env = voss.aws_env()
    aws = ["aws", "--endpoint-url", voss.https, "--no-verify-ssl"]

    def cli(*args):
        return run(aws + list(args), env).stdout

    b = f"awscli-sse-{uuid.uuid4().hex[:6]}"
    src = tmp_path / "big.bin"
    src.write_bytes(body(9 * MiB, b"cli"))  # above the CLI's 8 MiB threshold: a multipart upload
    key = "0123456789abcdef0123456789abcdef"  # the CLI takes a 32-byte key as text
    cli("s3", "mb", f"s3://{b}")
    try:
        cli("s3", "cp", str(src), f"s3://{b}/s3.bin", "--sse", "AES256")
        cli("s3", "cp", str(src), f"s3://{b}/c.bin", "--sse-c", "AES256", "--sse-c-key", key)
        head = json.loads(cli("s3api", "head-object", "--bucket", b, "--key", "s3.bin"))
        assert head["ServerSideEncryption"] == "AES256"
        for name, extra in [("s3.bin", []), ("c.bin", ["--sse-c", "AES256", "--sse-c-key", key])]:
            out = tmp_path / ("back-" + name)
            cli("s3", "cp", f"s3://{b}/{name}", str(out), *extra)
            assert out.read_bytes() == src.read_bytes()
    finally:
        cli("s3", "rm", f"s3://{b}", "--recursive")
        cli("s3", "rb", f"s3://{b}")


def test_browser_form_uploads_are_encrypted(voss, s3, bucket):
    import requests
    data = body(300_000, b"form")
    # Asked for in the form.
    form = s3.generate_presigned_post(bucket, "f1", Fields={"x-amz-server-side-encryption": "AES256"},
                                      Conditions=[{"x-amz-server-side-encryption": "AES256"}], ExpiresIn=600)
    r = requests.post(form["url"], data=form["fields"], files={"file": ("f", data)})
    assert r.status_code == 204 and r.headers["x-amz-server-side-encryption"] == "AES256", r.text
    # By the bucket's default.
    s3.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    form = s3.generate_presigned_post(bucket, "f2", ExpiresIn=600)
    assert requests.post(form["url"], data=form["fields"], files={"file": ("f", data)}).status_code == 204
    for k in ["f1", "f2"]:
        got = s3.get_object(Bucket=bucket, Key=k)
        assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == data
    if voss.rgw is None:
        assert not on_disk(voss, MARKER + b"form")


def test_ose_rotates_the_sse_s3_key_and_objects_stay_readable(voss, s3, bucket):
    data = body(70_000, b"rotate")
    s3.put_object(Bucket=bucket, Key="before", Body=data, ServerSideEncryption="AES256")
    shown = json.loads(voss.ose("--json", "encryption", "show").stdout)
    assert shown["keys"] and shown["keys"][-1]["current"] and shown["rotationDays"] == 90
    old = shown["keys"][-1]["id"]
    total = sum(k["dataKeys"] for k in shown["keys"])
    assert total >= 1
    r = json.loads(voss.ose("--json", "encryption", "rotate").stdout)
    new = r["added"]
    assert new and new != old and r["rewrapped"] >= 1
    keys = {k["id"]: k for k in r["info"]["keys"]}
    assert keys[new]["current"] and keys[new]["dataKeys"] == total, "every data key is now wrapped by the new key"
    assert keys[old]["dataKeys"] == 0 and not keys[old]["current"]
    # The stored data keys changed, the object's bytes did not: it reads back the same.
    assert s3.get_object(Bucket=bucket, Key="before")["Body"].read() == data
    s3.put_object(Bucket=bucket, Key="after", Body=data, ServerSideEncryption="AES256")
    assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == data
    text = voss.ose("encryption", "show").stdout
    assert new in text and "s3.sse_key_rotation_days" in text


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone not installed")
def test_rclone_sse_s3_and_sse_c(voss, s3, tmp_path):
    """rclone as installed, with its own flags: SSE-S3, and SSE-C over HTTPS (multipart above 5 MiB)."""
    env = voss.rclone_env("https")
    base = ["rclone", "--no-check-certificate", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"]
    src = tmp_path / "src"
    src.mkdir()
    (src / "small.txt").write_bytes(body(1000, b"rclone-small"))
    (src / "big.bin").write_bytes(body(7 * MiB, b"rclone-big"))
    b = f"rclone-sse-{uuid.uuid4().hex[:6]}"
    run(base + ["mkdir", f"voss:{b}"], env)
    try:
        run(base + ["copy", str(src), f"voss:{b}/s3", "--s3-server-side-encryption", "AES256"], env)
        key = base64.b64encode(os.urandom(32)).decode()
        ssec = ["--s3-sse-customer-algorithm", "AES256", "--s3-sse-customer-key-base64", key]
        run(base + ["copy", str(src), f"voss:{b}/c"] + ssec, env)
        assert s3.head_object(Bucket=b, Key="s3/big.bin")["ServerSideEncryption"] == "AES256"
        for prefix, extra in [("s3", []), ("c", ssec)]:
            back = tmp_path / ("back-" + prefix)
            run(base + ["copy", f"voss:{b}/{prefix}", str(back)] + extra, env)
            assert (back / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
            assert (back / "small.txt").read_bytes() == (src / "small.txt").read_bytes()
        if voss.rgw is None:
            assert not on_disk(voss, MARKER + b"rclone-big") and not on_disk(voss, MARKER + b"rclone-small")
    finally:
        subprocess.run(base + ["purge", f"voss:{b}"], env=env, capture_output=True, timeout=300)


@pytest.mark.skipif(shutil.which("s3cmd") is None, reason="s3cmd not installed")
def test_s3cmd_sse(voss, s3, tmp_path):
    cfg = voss.s3cmd_config(tmp_path / "s3cfg", "signature_v2 = False\nbucket_location = us-east-1\n")
    s3cmd = ["s3cmd", "-c", str(cfg)]
    b = f"s3cmd-sse-{uuid.uuid4().hex[:6]}"
    f = tmp_path / "f.bin"
    f.write_bytes(body(6 * MiB + 5, b"s3cmd"))
    run(s3cmd + ["mb", f"s3://{b}"])
    try:
        run(s3cmd + ["put", "--server-side-encryption", "--multipart-chunk-size-mb=5", str(f), f"s3://{b}/f.bin"])
        assert s3.head_object(Bucket=b, Key="f.bin")["ServerSideEncryption"] == "AES256"
        run(s3cmd + ["get", f"s3://{b}/f.bin", str(tmp_path / "back.bin")])
        assert (tmp_path / "back.bin").read_bytes() == f.read_bytes()
        if voss.rgw is None:
            assert not on_disk(voss, MARKER + b"s3cmd")
    finally:
        subprocess.run(s3cmd + ["rb", "--recursive", "--force", f"s3://{b}"], capture_output=True, timeout=300)
