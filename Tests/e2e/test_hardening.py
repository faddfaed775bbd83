"""Issue 11, as an attacker and a careless client would try it: requests that once killed the gateway,
signed streaming uploads in any TCP split, keys with NUL, slow and greedy clients, the control API
without a token, and the role matrix (2 tenants x 3 roles)."""
import datetime
import hashlib
import hmac
import json
import os
import socket
import time
import uuid

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def code(e):
    return e.value.response["Error"]["Code"]


def raw(port, data, chunks=None, timeout=10, pause=0.0):
    """Sends `data` (in `chunks` if given) on a fresh connection; returns everything read until close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        for part in (chunks or [data]):
            s.sendall(part)
            if pause:
                time.sleep(pause)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not b:
                break
            out += b
        return out
    finally:
        s.close()


def status_of(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.1 ") else None


@pytest.fixture
def public_object(voss, bucket):
    s3 = voss.client()
    s3.put_object(Bucket=bucket, Key="pub.txt", Body=b"public bytes", ACL="public-read")
    return bucket, "pub.txt"


# ---- one unauthenticated request must never take S3 down ----------------------------------------------

HOSTILE = [
    {"Authorization": "AWS NOPE:abc=", "Date": "Fri, 01 Jan 99999999999999999 00:00:00 GMT"},
    {"Authorization": "AWS NOPE:abc=", "Date": "Fri, 01 Jan 2020 9999999999999999:00:00 GMT"},
    {"Authorization": "AWS4-HMAC-SHA256 Credential=NOPE/20200101/us-east-1/s3/aws4_request, SignedHeaders=host;date, Signature=00",
     "Date": "Fri, 9223372036854775807 Jan 2020 00:00:00 GMT", "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    {"If-Modified-Since": "Fri, 01 Jan 99999999999999999 00:00:00 GMT"},
    {"If-Unmodified-Since": "Fri, 01 Jan 2020 99999999999999999999:00:00 GMT"},
    {"If-Modified-Since": "٢٠٢٠-٠١-٠١T٠٠:٠٠:٠٠Z"},
    {"If-Modified-Since": "2020-01-01T" + "9" * 40 + "Z"},
    {"Range": "bytes=99999999999999999999999-"},
    {"Range": "bytes=-9223372036854775808"},
    {"Range": "bytes=٠-٩"},
    {"x-amz-date": "99999999T999999Z", "Authorization": "AWS4-HMAC-SHA256 Credential=NOPE/99999999/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
     "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
    {"Content-Length": "99999999999999999999999"},
]


def test_hostile_requests_are_answered_and_the_gateway_never_restarts(voss, public_object):
    b, k = public_object
    before = voss.k.worker("s3")
    port = voss.k.s3_http_port
    for h in HOSTILE:
        lines = [f"GET /{b}/{k} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"] + [f"{n}: {v}" for n, v in h.items()]
        resp = raw(port, ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        st = status_of(resp)
        assert st is not None and st < 500, (h, resp[:300])
    # Presigned URLs with absurd numbers; SigV2 with absurd Expires.
    for q in ["X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=N%2F20200101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20200101T000000Z"
              "&X-Amz-Expires=9223372036854775807&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
              "AWSAccessKeyId=N&Expires=99999999999999999999999&Signature=x", "partNumber=99999999999999999999",
              "max-keys=99999999999999999999"]:
        resp = raw(port, f"GET /{b}/{k}?{q} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        assert (status_of(resp) or 500) < 500, (q, resp[:300])
    after = voss.k.worker("s3")
    assert after["restarts"] == before["restarts"] and after["pid"] == before["pid"], (before, after)
    assert voss.client().get_object(Bucket=b, Key=k)["Body"].read() == b"public bytes"


def test_an_unknown_authorization_scheme_is_refused_not_anonymous(voss, public_object):
    b, k = public_object
    resp = raw(voss.k.s3_http_port, f"GET /{b}/{k} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\r\nConnection: close\r\n\r\n".encode())
    assert status_of(resp) == 400 and b"<Code>InvalidArgument</Code>" in resp, resp[:400]


def test_a_crlf_in_a_response_override_is_an_error_answer(voss, public_object):
    b, k = public_object
    resp = raw(voss.k.s3_http_port,
               f"GET /{b}/{k}?response-content-type=a%0D%0AX-Evil:%201 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status_of(resp) == 400 and b"InvalidArgument" in resp and b"X-Evil" not in resp.split(b"\r\n\r\n")[0], resp[:400]


def test_a_bad_chunk_size_line_gets_one_answer(voss, bucket):
    resp = raw(voss.k.s3_http_port,
               f"PUT /{bucket}/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n".encode())
    assert resp.count(b"HTTP/1.1 ") == 1, resp


# ---- signed streaming uploads, in any TCP split ------------------------------------------------------

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signed_chunked_put(ident, host, bucket, key, data, chunk=8192, region="us-east-1"):
    """A PUT with `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, signed as AWS documents it; returns (head, body)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    scope = f"{day}/{region}/s3/aws4_request"
    skey = _hmac(_hmac(_hmac(_hmac(("AWS4" + ident.secret).encode(), day), region), "s3"), "aws4_request")
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    sig_len = 64
    enc_len = sum(len(f"{len(p):x};chunk-signature=".encode()) + sig_len + 2 + len(p) + 2 for p in pieces)
    headers = {"content-encoding": "aws-chunked", "content-length": str(enc_len), "host": host,
               "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "x-amz-date": amz,
               "x-amz-decoded-content-length": str(len(data))}
    signed = sorted(headers)
    creq = "\n".join(["PUT", f"/{bucket}/{key}", "", "".join(f"{h}:{headers[h]}\n" for h in signed), ";".join(signed),
                      "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
    sts = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n{hashlib.sha256(creq.encode()).hexdigest()}"
    prev = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
    auth = f"AWS4-HMAC-SHA256 Credential={ident.access_key}/{scope}, SignedHeaders={';'.join(signed)}, Signature={prev}"
    body = b""
    empty = hashlib.sha256(b"").hexdigest()
    for p in pieces:
        s = f"AWS4-HMAC-SHA256-PAYLOAD\n{amz}\n{scope}\n{prev}\n{empty}\n{hashlib.sha256(p).hexdigest()}"
        prev = hmac.new(skey, s.encode(), hashlib.sha256).hexdigest()
        body += f"{len(p):x};chunk-signature={prev}\r\n".encode() + p + b"\r\n"
    assert len(body) == enc_len
    head = (f"PUT /{bucket}/{key} HTTP/1.1\r\n" + "".join(f"{h}: {headers[h]}\r\n" for h in signed)
            + f"Authorization: {auth}\r\nConnection: close\r\n\r\n").encode()
    return head, body


@pytest.mark.parametrize("split", ["merged", "at-crlf", "bytewise-headers", "odd-stride"])
def test_signed_streaming_upload_in_any_split(voss, bucket, split):
    ident = voss.identity("acme", "alice")
    data = os.urandom(20000)
    host = f"127.0.0.1:{voss.k.s3_http_port}"
    head, body = signed_chunked_put(ident, host, bucket, f"stream-{split}", data)
    if split == "merged":
        chunks = [head + body]
    elif split == "at-crlf":
        chunks, start = [head], 0
        while (i := body.find(b"\r\n", start)) >= 0:
            chunks.append(body[start:i + 2])
            start = i + 2
    elif split == "bytewise-headers":
        chunks = [head] + [body[i:i + 1] for i in range(120)] + [body[120:]]
    else:
        chunks = [(head + body)[i:i + 4093] for i in range(0, len(head + body), 4093)]
    resp = raw(voss.k.s3_http_port, b"", chunks=chunks)
    assert status_of(resp) == 200, resp[:500]
    assert voss.client().get_object(Bucket=bucket, Key=f"stream-{split}")["Body"].read() == data


def test_a_wrong_chunk_signature_is_refused_and_nothing_is_stored(voss, bucket):
    ident = voss.identity("acme", "alice")
    head, body = signed_chunked_put(ident, f"127.0.0.1:{voss.k.s3_http_port}", bucket, "tampered", b"x" * 10000)
    body = body.replace(b"x" * 10, b"y" * 10, 1)
    resp = raw(voss.k.s3_http_port, head + body)
    assert status_of(resp) == 403 and b"SignatureDoesNotMatch" in resp, resp[:400]
    with pytest.raises(ClientError):
        voss.client().head_object(Bucket=bucket, Key="tampered")


# ---- keys are exact: no cut at NUL -----------------------------------------------------------------

def test_keys_with_nul_are_refused_and_never_touch_another_key(voss, bucket):
    s3 = voss.client()
    s3.put_object(Bucket=bucket, Key="victim.txt", Body=b"original")
    ident = voss.identity("acme", "alice")
    creds = Credentials(ident.access_key, ident.secret)
    for method, path, body in [("PUT", "victim.txt%00evil", b"evil"), ("GET", "victim.txt%00x", b""),
                               ("DELETE", "victim.txt%00x", b""), ("HEAD", "victim.txt%00", b"")]:
        url = f"{voss.http}/{bucket}/{path}"
        req = AWSRequest(method=method, url=url, data=body, headers={"x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
        S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
        import requests
        r = requests.request(method, url, headers=dict(req.headers), data=body)
        assert r.status_code == 400, (method, path, r.status_code, r.text)
    # XML cannot carry U+0000 at all: the whole request is refused, or the key is reported as an error.
    try:
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "victim.txt\x00x"}]})
        assert not r.get("Deleted") and r["Errors"][0]["Code"] == "InvalidArgument", r
    except ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
    assert s3.get_object(Bucket=bucket, Key="victim.txt")["Body"].read() == b"original"


# ---- slow and greedy clients -----------------------------------------------------------------------

@pytest.fixture
def tight_limits(voss):
    args = {"s3.header_timeout": "2", "s3.body_rate_window": "2", "s3.body_min_rate": "200", "s3.max_connections_per_client": "4"}
    for k, v in args.items():
        voss.ose("args", "set", "--k", k, "--v", v, check=True)
    time.sleep(0.5)  # the worker reloads its slice; new connections use the new limits
    yield
    for k in args:
        voss.ose("args", "del", "--k", k, check=True)
    time.sleep(0.5)


def test_a_slow_header_is_cut_after_the_head_deadline(voss, tight_limits):
    s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=10)
    start = time.monotonic()
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    got = b""
    try:
        for i in range(30):  # one header line every 0.5 s: would hold the connection for ever before
            s.sendall(f"X-Slow-{i}: y\r\n".encode())
            time.sleep(0.5)
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        got = s.recv(4096)
    except ConnectionResetError:
        pass
    took = time.monotonic() - start
    s.close()
    assert took < 8, took
    assert got == b"" or got.startswith(b"HTTP/1.1 408"), got


def test_a_trickling_body_gets_request_timeout(voss, bucket, tight_limits):
    ident = voss.identity("acme", "alice")
    url = f"{voss.http}/{bucket}/slow"
    req = AWSRequest(method="PUT", url=url, data=b"", headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD", "Content-Length": "5000"})
    S3SigV4Auth(Credentials(ident.access_key, ident.secret), "s3", "us-east-1").add_auth(req)
    head = (f"PUT /{bucket}/slow HTTP/1.1\r\nHost: 127.0.0.1:{voss.k.s3_http_port}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in req.headers.items()) + "\r\n")
    s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=15)
    s.sendall(head.encode())
    start = time.monotonic()
    resp = b""
    s.settimeout(0.5)
    for _ in range(40):  # 1 byte every 0.3 s, far below 200 B/s
        try:
            s.sendall(b"a")
        except (BrokenPipeError, ConnectionResetError):
            break
        try:
            chunk = s.recv(4096)
            if chunk:
                resp += chunk
                break
        except socket.timeout:
            pass
        time.sleep(0.3)
    s.close()
    assert time.monotonic() - start < 12
    assert status_of(resp) == 400 and b"RequestTimeout" in resp, resp[:400]
    with pytest.raises(ClientError):
        voss.client().head_object(Bucket=bucket, Key="slow")


def test_connections_per_client_are_capped(voss, tight_limits):
    held = [socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=5) for _ in range(4)]
    try:
        time.sleep(0.2)
        extra = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=5)
        got = extra.recv(4096)
        extra.close()
        assert got.startswith(b"HTTP/1.1 503") and b"Retry-After" in got, got
    finally:
        for s in held:
            s.close()
    time.sleep(0.3)
    assert voss.client().list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))


def test_the_control_api_reads_no_body_without_the_token(voss):
    pid = voss.k.proc.pid
    before = rss_kib(pid)
    socks = []
    for _ in range(30):
        s = socket.create_connection(("127.0.0.1", voss.k.control_port), timeout=5)
        s.sendall(b"POST /v1/args HTTP/1.1\r\nHost: x\r\nContent-Length: 16000000\r\n\r\n")
        socks.append(s)
    chunk = b"z" * 65536
    for s in socks:
        try:
            for _ in range(8):  # 512 KiB each, which the kernel's buffers alone could hold
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass
    time.sleep(0.5)
    grown = rss_kib(pid) - before
    closed = 0
    for s in socks:
        s.settimeout(3)
        try:
            closed += s.recv(4096) in (b"",) or 0
        except ConnectionResetError:
            closed += 1
        s.close()
    assert closed == 30, closed  # the keeper hung up on every one
    assert grown < 20 * 1024, f"keeper RSS grew by {grown} KiB"
    assert voss.k.service()["state"] in ("ready", "degraded")


# ---- roles: 2 tenants x 3 roles --------------------------------------------------------------------

ROLES = {
    # who: (tenant, user, role)
    "owner": ("acme", "alice", None),
    "user": ("acme", "rolebob", "tenant-user"),
    "admin": ("acme", "roleada", "tenant-admin"),
    "other-user": ("globex", "rolecid", "tenant-user"),
    "other-admin": ("globex", "roledee", "tenant-admin"),
    "provider": ("ops", "rooty", "provider-admin"),
}
ALLOWED = {"owner", "admin", "provider"}


def actions(c, b):
    """Each action a role may or may not take on alice's bucket `b` (which holds `seed`)."""
    key = f"k-{uuid.uuid4().hex[:6]}"
    return {
        "list": lambda: c.list_objects_v2(Bucket=b),
        "head-bucket": lambda: c.head_bucket(Bucket=b),
        "get": lambda: c.get_object(Bucket=b, Key="seed")["Body"].read(),
        "put": lambda: c.put_object(Bucket=b, Key=key, Body=b"x"),
        "copy": lambda: c.copy_object(Bucket=b, Key=key + "c", CopySource={"Bucket": b, "Key": "seed"}),
        "delete": lambda: c.delete_object(Bucket=b, Key="seed-del"),
        "multipart": lambda: c.abort_multipart_upload(
            Bucket=b, Key=key, UploadId=c.create_multipart_upload(Bucket=b, Key=key)["UploadId"]),
        "list-uploads": lambda: c.list_multipart_uploads(Bucket=b),
        "get-acl": lambda: c.get_bucket_acl(Bucket=b),
        "put-acl": lambda: c.put_bucket_acl(Bucket=b, ACL="private"),
        "object-acl": lambda: c.put_object_acl(Bucket=b, Key="seed", ACL="private"),
        "tagging": lambda: c.put_bucket_tagging(Bucket=b, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}),
        "location": lambda: c.get_bucket_location(Bucket=b),
    }


@pytest.mark.parametrize("who", list(ROLES))
def test_role_matrix(voss, new_bucket, who):
    alice = voss.client()
    b = new_bucket(alice)
    alice.put_object(Bucket=b, Key="seed", Body=b"seed")
    alice.put_object(Bucket=b, Key="seed-del", Body=b"x")
    tenant, user, role = ROLES[who]
    c = voss.client((tenant, user), role=role)
    for name, act in actions(c, b).items():
        if who in ALLOWED:
            act()
        else:
            with pytest.raises(ClientError) as e:
                act()
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, (who, name, e.value.response)
    # Listings: never another tenant's bucket; a tenant user sees its own, a tenant admin all of its tenant's.
    names = [x["Name"] for x in c.list_buckets()["Buckets"]]
    assert (b in names) == (who in {"owner", "admin"}), (who, names)
    # Deleting the bucket: configuration rights only.
    alice.delete_object(Bucket=b, Key="seed")
    for o in alice.list_objects_v2(Bucket=b).get("Contents", []):
        alice.delete_object(Bucket=b, Key=o["Key"])
    if who in ALLOWED:
        c.delete_bucket(Bucket=b)
    else:
        with pytest.raises(ClientError) as e:
            c.delete_bucket(Bucket=b)
        assert code(e) == "AccessDenied"
