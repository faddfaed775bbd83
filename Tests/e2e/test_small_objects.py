"""Small objects' bytes in the metadata database (issue 15, decision 50): a PUT of at most 16 KiB
(`s3.inline_max_kib`), declared in advance, to a bucket on the local platform (encrypted first under
SSE) writes the
bytes with the object's row in one transaction — no file. Everything that reads an object reads
these the same way: GET, ranges, part numbers, HEAD, presigned URLs (the synchronous path), copies,
UploadPartCopy, awscli and s3cmd with their default configurations."""
import hashlib
import json
import os
import shutil

import pytest
import requests
from conftest import run
from voss_harness import wait_for

pytestmark = pytest.mark.skipif(os.environ.get("VOSS_TEST_PLATFORM") == "rgw", reason="buckets on RGW keep their bytes there")

KiB = 1024


def blob_of(voss, bucket, key):
    rows = voss.column(
        f"SELECT o.storage FROM objects o JOIN buckets b ON b.id = o.bucket_id WHERE b.name = '{bucket}' AND o.key = '{key}'")
    return [p["blob"] for p in json.loads(rows[0])["pieces"]] if rows else None


def inline(voss, blob):
    return voss.column(f"SELECT count(*) FROM inline_blobs WHERE blob = '{blob}'") == ["1"]


def test_a_small_put_makes_no_file_and_reads_back_every_way(voss, s3, bucket):
    before = voss.blob_files()
    data = os.urandom(4096)
    put = s3.put_object(Bucket=bucket, Key="small", Body=data)
    assert put["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    (blob,) = blob_of(voss, bucket, "small")
    assert blob.startswith("local.db::") and inline(voss, blob)
    assert voss.blob_files() == before, "a small PUT wrote a file"
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == data
    assert s3.head_object(Bucket=bucket, Key="small")["ContentLength"] == 4096
    for rng, want in [("bytes=0-0", data[:1]), ("bytes=100-4095", data[100:]), ("bytes=-7", data[-7:]), ("bytes=4000-", data[4000:])]:
        got = s3.get_object(Bucket=bucket, Key="small", Range=rng)
        assert got["Body"].read() == want, rng
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=bucket, Key="small", PartNumber=1)["Body"].read() == data
    # A presigned GET is answered by the synchronous path from the same row.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small"})
    r = requests.get(url)
    assert r.status_code == 200 and r.content == data and r.headers["ETag"] == put["ETag"]
    # Copies read it like any blob; the copy is a blob of its own.
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "small"})
    assert s3.get_object(Bucket=bucket, Key="copy")["Body"].read() == data
    assert blob_of(voss, bucket, "copy") != [blob]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    p1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"a" * (5 * KiB * KiB))
    p2 = s3.upload_part_copy(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=2,
                             CopySource={"Bucket": bucket, "Key": "small"}, CopySourceRange="bytes=10-19")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": p1["ETag"]}, {"PartNumber": 2, "ETag": p2["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * KiB * KiB}-")["Body"].read() == data[10:20]


def test_the_limit_and_what_is_never_kept_inline(voss, s3, bucket):
    s3.put_object(Bucket=bucket, Key="at-limit", Body=b"a" * (16 * KiB))
    s3.put_object(Bucket=bucket, Key="over-limit", Body=b"b" * (16 * KiB + 1))
    s3.put_object(Bucket=bucket, Key="folder/", Body=b"")
    s3.put_object(Bucket=bucket, Key="encrypted", Body=b"c" * 100, ServerSideEncryption="AES256")
    assert blob_of(voss, bucket, "at-limit")[0].startswith("local.db::")
    assert blob_of(voss, bucket, "folder/")[0].startswith("local.db::")
    (big,) = blob_of(voss, bucket, "over-limit")
    assert big in voss.blob_files(), "past the limit: a file"
    assert s3.get_object(Bucket=bucket, Key="folder/")["Body"].read() == b""
    # Encrypted, it is kept as ciphertext: 100 bytes, none of them the plaintext's run of "c".
    (enc,) = blob_of(voss, bucket, "encrypted")
    assert enc.startswith("local.db::")
    hexed = "encode(data, 'hex')" if voss.pg else "lower(hex(data))"
    (stored,) = voss.column(f"SELECT {hexed} FROM inline_blobs WHERE blob = '{enc}'")
    assert len(stored) == 200 and "6363636363" not in stored
    got = s3.get_object(Bucket=bucket, Key="encrypted", Range="bytes=10-19")
    assert got["Body"].read() == b"c" * 10 and got["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key="encrypted")["Body"].read() == b"c" * 100
    # Sent without a length in advance (chunked), the gateway cannot know: a file.
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "chunked"})
    r = requests.put(url, data=iter([b"d" * 50, b"e" * 50]))
    assert r.status_code == 200, r.text
    assert blob_of(voss, bucket, "chunked")[0] in voss.blob_files()
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"d" * 50 + b"e" * 50
    # Turned off: small objects are files again.
    voss.ose("args", "set", "--k", "s3.inline_max_kib", "--v", "0", check=True)
    try:
        def written_as_file():
            s3.put_object(Bucket=bucket, Key="off", Body=b"f" * 10)
            return blob_of(voss, bucket, "off")[0] in voss.blob_files()
        wait_for(written_as_file, 15, what="inline_max_kib 0 reaches the gateway")
    finally:
        voss.ose("args", "del", "--k", "s3.inline_max_kib", check=True)


def test_default_clients_store_and_fetch_small_files(voss, bucket, tmp_path):
    """awscli, s3cmd and rclone as installed: awscli sends a small file with a CRC32 checksum (aws-chunked
    with a declared decoded length, in current versions); s3cmd signs the payload. All land inline."""
    src = tmp_path / "note.txt"
    data = os.urandom(3000)
    src.write_bytes(data)
    env = voss.aws_env()
    run(["aws", "--endpoint-url", voss.http, "s3", "cp", str(src), f"s3://{bucket}/aws.txt"], env=env)
    run(["aws", "--endpoint-url", voss.http, "s3", "cp", f"s3://{bucket}/aws.txt", str(tmp_path / "back.txt")], env=env)
    assert (tmp_path / "back.txt").read_bytes() == data
    assert blob_of(voss, bucket, "aws.txt")[0].startswith("local.db::")
    cfg = tmp_path / "s3cfg"
    voss.s3cmd_config(cfg)
    run(["s3cmd", "-c", str(cfg), "put", str(src), f"s3://{bucket}/s3cmd.txt"])
    run(["s3cmd", "-c", str(cfg), "get", "--force", f"s3://{bucket}/s3cmd.txt", str(tmp_path / "back2.txt")])
    assert (tmp_path / "back2.txt").read_bytes() == data
    assert blob_of(voss, bucket, "s3cmd.txt")[0].startswith("local.db::")
    if shutil.which("rclone"):
        env = voss.rclone_env()
        run(["rclone", "copyto", str(src), f"voss:{bucket}/rclone.txt"], env=env)
        run(["rclone", "copyto", f"voss:{bucket}/rclone.txt", str(tmp_path / "back3.txt")], env=env)
        assert (tmp_path / "back3.txt").read_bytes() == data
        assert blob_of(voss, bucket, "rclone.txt")[0].startswith("local.db::")
