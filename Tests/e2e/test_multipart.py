"""Multipart uploads: the API, its checks, checksums, and a 100 MiB transfer."""
import base64
import hashlib
import os
import zlib

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def code(e):
    return e.value.response["Error"]["Code"]


def test_multipart_api(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/x-mp", Metadata={"m": "1"})
    uid = up["UploadId"]
    p1, p2, p3 = os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(1234)
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    e3 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=3, Body=p3)["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, 5 * MiB, e1), (2, 5 * MiB, e2), (3, 1234, e3)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [uid]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}, {"PartNumber": 3, "ETag": e3}]})
    expected = hashlib.md5(b"".join(bytes.fromhex(e.strip('"')) for e in (e1, e2, e3))).hexdigest() + "-3"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=bucket, Key="mp")
    assert got["Body"].read() == p1 + p2 + p3
    assert got["ContentType"] == "text/x-mp" and got["Metadata"] == {"m": "1"} and got["PartsCount"] == 3
    assert s3.get_object(Bucket=bucket, Key="mp", Range=f"bytes={5 * MiB - 10}-{5 * MiB + 9}")["Body"].read() == (p1 + p2)[5 * MiB - 10:5 * MiB + 10]
    assert s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)["Body"].read() == p2
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)
    assert code(e) == "NoSuchUpload"


def test_complete_checks_order_etags_and_sizes(voss, s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="bad")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="bad", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="bad", UploadId=uid, PartNumber=2, Body=b"also small")["ETag"]

    def complete(parts):
        with pytest.raises(ClientError) as e:
            s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=uid, MultipartUpload={"Parts": parts})
        return code(e)

    assert complete([{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]) == "InvalidPartOrder"
    assert complete([{"PartNumber": 1, "ETag": '"0123"'}]) == "InvalidPart"
    assert complete([{"PartNumber": 7, "ETag": e1}]) == "InvalidPart"
    assert complete([{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]) == "EntityTooSmall"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="bad", UploadId=uid, PartNumber=10001, Body=b"x")
    assert code(e) == "InvalidArgument"
    if voss.rgw:
        # Ceph RGW completes an upload only with every part it holds, so VOSS assembles part 2 too
        # and part 1 is then too small (docs/decisions.md 37).
        assert complete([{"PartNumber": 1, "ETag": e1}]) == "EntityTooSmall"
        return
    # A single small part is fine (the last part may be small).
    s3.complete_multipart_upload(Bucket=bucket, Key="bad", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert s3.get_object(Bucket=bucket, Key="bad")["Body"].read() == b"small"


def test_abort_and_unknown_upload(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=1, Body=b"x" * 1000)
    s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="ab", UploadId=uid, PartNumber=2, Body=b"x")
    assert code(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId="nonsense")
    assert code(e) == "NoSuchUpload"


def test_reuploading_a_part_replaces_it(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="re")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="re", UploadId=uid, PartNumber=1, Body=b"old")
    e = s3.upload_part(Bucket=bucket, Key="re", UploadId=uid, PartNumber=1, Body=b"new!")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="re", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert s3.get_object(Bucket=bucket, Key="re")["Body"].read() == b"new!"


def test_upload_part_copy(s3, bucket):
    src = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    r1 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    r2 = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=2, CopySource={"Bucket": bucket, "Key": "src"},
                             CopySourceRange=f"bytes={5 * MiB}-{6 * MiB - 1}")
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r1["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == src


@pytest.mark.parametrize("algorithm,ctype", [("CRC32", None), ("CRC32", "FULL_OBJECT"), ("CRC32C", "COMPOSITE"), ("CRC64NVME", None), ("SHA256", None)])
def test_multipart_checksums(s3, bucket, algorithm, ctype):
    kw = {"ChecksumAlgorithm": algorithm}
    if ctype:
        kw["ChecksumType"] = ctype
    uid = s3.create_multipart_upload(Bucket=bucket, Key="c", **kw)["UploadId"]
    parts_data = [os.urandom(5 * MiB), os.urandom(777)]
    parts = []
    for i, d in enumerate(parts_data, 1):
        r = s3.upload_part(Bucket=bucket, Key="c", UploadId=uid, PartNumber=i, Body=d, ChecksumAlgorithm=algorithm)
        parts.append({"PartNumber": i, "ETag": r["ETag"], "Checksum" + algorithm: r["Checksum" + algorithm]})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="c", UploadId=uid, MultipartUpload={"Parts": parts})
    expected_type = ctype or ("FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE")
    assert done["ChecksumType"] == expected_type
    head = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert head["Checksum" + algorithm] == done["Checksum" + algorithm]
    if algorithm == "CRC32" and expected_type == "FULL_OBJECT":
        whole = b"".join(parts_data)
        assert done["ChecksumCRC32"] == base64.b64encode(zlib.crc32(whole).to_bytes(4, "big")).decode()
    if expected_type == "COMPOSITE":
        assert done["Checksum" + algorithm].endswith("-2")
    # boto3 verifies the downloaded body against full-object checksums itself.
    assert s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")["Body"].read() == b"".join(parts_data)


def test_wrong_part_checksum_in_complete_is_rejected(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="w", ChecksumAlgorithm="CRC32")["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="w", UploadId=uid, PartNumber=1, Body=b"abc", ChecksumAlgorithm="CRC32")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="w", UploadId=uid, MultipartUpload={"Parts": [
            {"PartNumber": 1, "ETag": r["ETag"], "ChecksumCRC32": "AAAAAA=="}]})
    assert code(e) == "InvalidPart"


def test_100MiB_multipart_upload_and_download(voss, scheme, new_bucket, tmp_path):
    s3 = voss.client(scheme=scheme)
    b = new_bucket(s3)
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(MiB))
    cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_file(str(src), b, "big.bin", Config=cfg)
    head = s3.head_object(Bucket=b, Key="big.bin")
    assert head["ContentLength"] == 100 * MiB and head["ETag"].endswith('-13"')
    dst = tmp_path / "back.bin"
    s3.download_file(b, "big.bin", str(dst), Config=cfg)
    h = hashlib.sha256()
    with open(src, "rb") as f:
        h.update(f.read())
    h2 = hashlib.sha256()
    with open(dst, "rb") as f:
        h2.update(f.read())
    assert h.hexdigest() == h2.hexdigest()
