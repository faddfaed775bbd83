"""Integrity (SigV4 payload modes, additional checksums, Content-MD5) and listings."""
import base64
import hashlib
import os
import zlib

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


@pytest.mark.parametrize("calc", ["when_supported", "when_required"])
def test_default_client_settings_put_and_verify(voss, scheme, new_bucket, calc):
    """Current boto3 sends CRC32 in aws-chunked trailers by default (over HTTPS); when_required does not."""
    s3 = voss.client(scheme=scheme, request_checksum_calculation=calc, response_checksum_validation=calc)
    b = new_bucket(s3)
    body = os.urandom(200_000)
    s3.put_object(Bucket=b, Key="k", Body=body)
    r = s3.get_object(Bucket=b, Key="k", ChecksumMode="ENABLED")
    assert r["Body"].read() == body
    if calc == "when_supported":
        assert r["ChecksumCRC32"] == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_each_checksum_algorithm_is_validated_stored_and_returned(voss, scheme, new_bucket, algorithm):
    s3 = voss.client(scheme=scheme)
    b = new_bucket(s3)
    body = os.urandom(70_000)
    put = s3.put_object(Bucket=b, Key="k", Body=body, ChecksumAlgorithm=algorithm)
    field = "Checksum" + algorithm
    assert field in put
    head = s3.head_object(Bucket=b, Key="k", ChecksumMode="ENABLED")
    assert head[field] == put[field]
    if algorithm == "SHA256":
        assert head[field] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    if algorithm == "SHA1":
        assert head[field] == base64.b64encode(hashlib.sha1(body).digest()).decode()
    listed = s3.list_objects_v2(Bucket=b)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == [algorithm]


def signed_put(voss, bucket, key, body, headers, payload_hash=None):
    ident = voss.identity("acme", "alice")
    url = f"{voss.http}/{bucket}/{key}"
    req = AWSRequest(method="PUT", url=url, data=body, headers=headers)
    req.headers["x-amz-content-sha256"] = payload_hash or hashlib.sha256(body).hexdigest()
    SigV4Auth(Credentials(ident.access_key, ident.secret), "s3", "us-east-1").add_auth(req)
    return requests.put(url, data=body, headers=dict(req.headers.items()))


def test_wrong_checksum_header_is_bad_digest_and_nothing_is_stored(voss, bucket):
    r = signed_put(voss, bucket, "bad", b"hello", {"x-amz-checksum-crc32": base64.b64encode(b"\0\0\0\0").decode()})
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    with pytest.raises(ClientError):
        voss.client().head_object(Bucket=bucket, Key="bad")


def test_wrong_content_md5_is_bad_digest(voss, bucket):
    r = signed_put(voss, bucket, "md5", b"hello", {"Content-MD5": base64.b64encode(hashlib.md5(b"other").digest()).decode()})
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    r = signed_put(voss, bucket, "md5", b"hello", {"Content-MD5": "not-base64"})
    assert r.status_code == 400 and "<Code>InvalidDigest</Code>" in r.text


def test_payload_not_matching_its_signed_hash_is_rejected(voss, bucket):
    r = signed_put(voss, bucket, "sha", b"hello", {}, payload_hash=hashlib.sha256(b"something else").hexdigest())
    assert r.status_code == 400 and "XAmzContentSHA256Mismatch" in r.text


def test_two_checksum_headers_are_invalid(voss, bucket):
    r = signed_put(voss, bucket, "two", b"x", {"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": base64.b64encode(hashlib.sha1(b"x").digest()).decode()})
    assert r.status_code == 400 and "InvalidRequest" in r.text


def crc32(b):
    return base64.b64encode(zlib.crc32(b).to_bytes(4, "big")).decode()


def test_unsigned_trailer_body_written_by_hand(voss, bucket):
    restarts = voss.k.worker("s3")["restarts"]
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER framing, as the SDKs send it."""
    body = os.urandom(50_000)
    chunks = [body[:32768], body[32768:]]
    framed = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n" + f"x-amz-checksum-crc32:{crc32(body)}\r\n\r\n".encode()
    r = signed_put(voss, bucket, "trailer", framed, {
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body)),
        "x-amz-trailer": "x-amz-checksum-crc32"}, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert r.status_code == 200, r.text
    assert voss.client().get_object(Bucket=bucket, Key="trailer")["Body"].read() == body
    bad = framed.replace(crc32(body).encode(), b"AAAAAA==")
    r = signed_put(voss, bucket, "trailer2", bad, {
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body)),
        "x-amz-trailer": "x-amz-checksum-crc32"}, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert r.status_code == 400 and "BadDigest" in r.text
    truncated = framed[:1000]
    r = signed_put(voss, bucket, "trailer3", truncated, {
        "Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body)),
        "x-amz-trailer": "x-amz-checksum-crc32"}, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    assert r.status_code == 400 and "IncompleteBody" in r.text
    assert voss.k.worker("s3")["restarts"] == restarts, "a malformed body must not crash the gateway"


@pytest.fixture
def listing_bucket(voss, new_bucket):
    s3 = voss.client()
    b = new_bucket(s3)
    keys = ["a/1", "a/2", "a/b/3", "b/1", "c", "d/e/f/g", "photos/2023/jan/x.jpg", "photos/2024/feb/y.jpg", "photos/top.jpg", "z z", "é"]
    for k in keys:
        s3.put_object(Bucket=b, Key=k, Body=k.encode())
    return b, sorted(keys, key=lambda k: k.encode())


def test_list_v2_prefix_delimiter_and_common_prefixes(s3, listing_bucket):
    b, keys = listing_bucket
    r = s3.list_objects_v2(Bucket=b, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/", "d/", "photos/"]
    assert [o["Key"] for o in r["Contents"]] == ["c", "z z", "é"]
    assert r["KeyCount"] == 7
    r = s3.list_objects_v2(Bucket=b, Prefix="photos/", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["photos/2023/", "photos/2024/"]
    assert [o["Key"] for o in r["Contents"]] == ["photos/top.jpg"]
    assert s3.list_objects_v2(Bucket=b, Prefix="nothing")["KeyCount"] == 0


def test_list_v2_pagination_and_start_after(s3, listing_bucket):
    b, keys = listing_bucket
    seen, token = [], None
    while True:
        kw = {"Bucket": b, "MaxKeys": 3}
        if token:
            kw["ContinuationToken"] = token
        r = s3.list_objects_v2(**kw)
        seen += [o["Key"] for o in r.get("Contents", [])]
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert seen == keys
    r = s3.list_objects_v2(Bucket=b, StartAfter="c")
    assert [o["Key"] for o in r["Contents"]] == [k for k in keys if k.encode() > b"c"]
    assert s3.list_objects_v2(Bucket=b, MaxKeys=0)["KeyCount"] == 0


def test_list_v1_marker_and_next_marker(s3, listing_bucket):
    b, keys = listing_bucket
    r = s3.list_objects(Bucket=b, MaxKeys=4)
    assert [o["Key"] for o in r["Contents"]] == keys[:4] and r["IsTruncated"]
    r2 = s3.list_objects(Bucket=b, Marker=keys[3])
    assert [o["Key"] for o in r2["Contents"]] == keys[4:]
    r3 = s3.list_objects(Bucket=b, Delimiter="/", MaxKeys=2)
    assert r3["IsTruncated"] and r3["NextMarker"] == "b/"
    assert r["Contents"][0]["Owner"]["DisplayName"] == "acme"


def test_list_with_url_encoding(s3, listing_bucket):
    b, keys = listing_bucket
    # Asked for explicitly, botocore leaves the keys encoded (it decodes only what it asked for itself).
    r = s3.list_objects_v2(Bucket=b, EncodingType="url")
    from urllib.parse import unquote
    assert [unquote(o["Key"]) for o in r["Contents"]] == keys
    assert "z%20z" in [o["Key"] for o in r["Contents"]] and "%C3%A9" in [o["Key"] for o in r["Contents"]]


def test_paginator_over_many_keys(s3, bucket):
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: s3.put_object(Bucket=bucket, Key=f"many/{i:05d}", Body=b""), range(2100)))
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="many/"))
    assert sum(p["KeyCount"] for p in pages) == 2100 and len(pages) == 3
    pages = list(s3.get_paginator("list_objects").paginate(Bucket=bucket, Prefix="many/", PaginationConfig={"PageSize": 700}))
    assert [len(p["Contents"]) for p in pages] == [700, 700, 700]


def model_listing(keys, prefix, delimiter, start_after):
    """S3's ListObjectsV2 over `keys` as one list of entries (keys and common prefixes), byte order."""
    entries = []
    for k in sorted(keys, key=lambda k: k.encode()):
        if not k.startswith(prefix) or k.encode() <= start_after.encode():
            continue
        rest = k[len(prefix):]
        if delimiter and delimiter in rest:
            cp = prefix + rest[:rest.index(delimiter) + len(delimiter)]
            if cp.encode() <= start_after.encode():
                continue
            if not entries or entries[-1] != ("p", cp):
                entries.append(("p", cp))
        else:
            entries.append(("k", k))
    return entries


def test_delimiter_listings_match_a_model_page_by_page(voss, new_bucket):
    """Random keys, prefixes, delimiters (also multi-character and non-ASCII), page sizes and
    start-after points; every page walked with continuation tokens must equal the model's."""
    import random
    rng = random.Random(20261130)
    s3 = voss.client()
    b = new_bucket(s3)
    parts = ["a", "b", "a/", "/", "é", "x/", "-", "ab", "é/", "z"]
    keys = set()
    while len(keys) < 160:
        keys.add("".join(rng.choice(parts) for _ in range(rng.randint(1, 5))))
    for k in keys:
        s3.put_object(Bucket=b, Key=k, Body=b"")
    for _ in range(40):
        prefix = rng.choice(["", "a", "a/", "é", "b", "x/", "a/a"])
        delimiter = rng.choice(["/", "a", "é/", "b/", "-"])
        start_after = rng.choice(["", "", "a", "a/", "é", "b-", "a/a/"])
        page = rng.choice([1, 2, 3, 7, 1000])
        want = model_listing(keys, prefix, delimiter, start_after)
        got, token = [], None
        while True:
            kw = {"Bucket": b, "Prefix": prefix, "Delimiter": delimiter, "MaxKeys": page}
            if token:
                kw["ContinuationToken"] = token
            elif start_after:
                kw["StartAfter"] = start_after
            r = s3.list_objects_v2(**kw)
            entries = [("k", o["Key"]) for o in r.get("Contents", [])] + [("p", p["Prefix"]) for p in r.get("CommonPrefixes", [])]
            entries.sort(key=lambda e: e[1].encode())
            assert len(entries) == r["KeyCount"] <= page
            got += entries
            if not r["IsTruncated"]:
                break
            assert r["NextContinuationToken"] != token, ("no progress", prefix, delimiter, start_after, page, got[-3:])
            assert len(got) <= len(want), ("more entries than the model", prefix, delimiter, start_after, page, got[-3:])
            token = r["NextContinuationToken"]
        assert got == want, (prefix, delimiter, start_after, page)
