"""POST object (HTML form uploads): forms made by boto3's generate_presigned_post, posted as a
browser posts them (requests' multipart encoder), with the policy's conditions enforced."""
import hashlib

import pytest
import requests
from botocore.config import Config


def post(form, data, filename="f.bin", url=None):
    files = {"file": (filename, data)}
    return requests.post(url or form["url"], data=form["fields"], files=files)


@pytest.fixture(params=["s3v2", "s3v4"])
def s3(voss, request):
    """boto3 signs forms with SigV2 for endpoints other than AWS's by default; SigV4 when asked."""
    return voss.client(signature_version="s3" if request.param == "s3v2" else "s3v4")


def test_a_signed_form_uploads_and_answers_as_asked(voss, s3, bucket):
    form = s3.generate_presigned_post(
        bucket, "uploads/${filename}",
        Fields={"success_action_status": "201", "Content-Type": "image/png", "x-amz-meta-owner": "web"},
        Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"}, ["starts-with", "$Content-Type", "image/"],
                    {"x-amz-meta-owner": "web"}, ["content-length-range", 1, 10 << 20]],
        ExpiresIn=600)
    data = bytes(range(256)) * 4096  # 1 MiB, every byte value
    r = post(form, data, filename="pic.png")
    assert r.status_code == 201, r.text
    assert "<Key>uploads/pic.png</Key>" in r.text
    got = s3.get_object(Bucket=bucket, Key="uploads/pic.png")
    assert got["Body"].read() == data and got["ContentType"] == "image/png" and got["Metadata"] == {"owner": "web"}
    assert got["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    # Default answer 204; a redirect gets 303 with bucket, key and ETag.
    plain = s3.generate_presigned_post(bucket, "k", ExpiresIn=600)
    r = post(plain, b"hello")
    assert r.status_code == 204 and r.headers["ETag"] == '"%s"' % hashlib.md5(b"hello").hexdigest()
    redirect = s3.generate_presigned_post(bucket, "r", Fields={"success_action_redirect": "https://app.example.com/done"},
                                          Conditions=[{"success_action_redirect": "https://app.example.com/done"}], ExpiresIn=600)
    r = requests.post(redirect["url"], data=redirect["fields"], files={"file": ("x", b"x")}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("https://app.example.com/done?bucket=")


def test_the_policy_is_enforced(voss, s3, bucket):
    form = s3.generate_presigned_post(bucket, "small", Conditions=[["content-length-range", 1, 10]], ExpiresIn=600)
    r = post(form, b"x" * 11)
    assert r.status_code == 400 and "<Code>EntityTooLarge</Code>" in r.text
    # A field the policy does not name.
    r = requests.post(form["url"], data=dict(form["fields"], **{"x-amz-meta-sneaky": "1"}), files={"file": ("f", b"x")})
    assert r.status_code == 403 and "Extra input fields" in r.text
    # Another key than the signed one; a changed signature; an expired form.
    r = requests.post(form["url"], data=dict(form["fields"], key="other"), files={"file": ("f", b"x")})
    assert r.status_code == 403
    sig = "x-amz-signature" if "x-amz-signature" in form["fields"] else "signature"
    r = requests.post(form["url"], data=dict(form["fields"], **{sig: "0" * 64}), files={"file": ("f", b"x")})
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    expired = s3.generate_presigned_post(bucket, "late", ExpiresIn=-10)
    r = post(expired, b"x")
    assert r.status_code == 403 and "expired" in r.text
    # Without any policy (anonymous) nothing is written; nor without a file or as another content type.
    r = requests.post(form["url"], data={"key": "anon"}, files={"file": ("f", b"x")})
    assert r.status_code == 403
    r = requests.post(form["url"], data=form["fields"])
    assert r.status_code in (400, 412)
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert names == []


def test_a_form_checksum_is_checked_and_kept(voss, s3, bucket):
    import base64
    data = b"form checksum " * 1000
    good = base64.b64encode(hashlib.sha256(data).digest()).decode()
    form = s3.generate_presigned_post(bucket, "sum", Fields={"x-amz-checksum-sha256": good},
                                      Conditions=[{"x-amz-checksum-sha256": good}], ExpiresIn=600)
    assert post(form, data).status_code == 204
    head = s3.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == good
    # The form says one thing, the file is another: BadDigest, nothing stored.
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    form = s3.generate_presigned_post(bucket, "bad", Fields={"x-amz-checksum-sha256": wrong},
                                      Conditions=[{"x-amz-checksum-sha256": wrong}], ExpiresIn=600)
    r = post(form, data)
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    form = s3.generate_presigned_post(bucket, "junk", Fields={"x-amz-checksum-crc32": "not base64!"},
                                      Conditions=[{"x-amz-checksum-crc32": "not base64!"}], ExpiresIn=600)
    r = post(form, data)
    assert r.status_code == 400 and "<Code>InvalidRequest</Code>" in r.text
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])] == ["sum"]


@pytest.mark.parametrize("split", ["merged", "bytewise-head", "stride-7"])
def test_a_form_arriving_in_any_split_is_read_the_same(voss, s3, bucket, split):
    """The request written by hand and sent in pieces over one TCP connection."""
    import socket
    form = s3.generate_presigned_post(bucket, "split-${filename}", ExpiresIn=600)
    boundary = "VossBoundary7"
    data = bytes(range(256)) * 64
    body = b""
    for k, v in form["fields"].items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{split}.bin"\r\n\r\n'.encode() + data
    body += f"\r\n--{boundary}--\r\n".encode()
    host = voss.http.split("//")[1]
    head = (f"POST /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    request = head + body
    if split == "merged":
        pieces = [request]
    elif split == "bytewise-head":
        pieces = [bytes([b]) for b in request[:len(head) + 400]] + [request[len(head) + 400:]]
    else:
        pieces = [request[i:i + 7] for i in range(0, len(request), 7)]
    s = socket.create_connection(("127.0.0.1", int(host.split(":")[1])), timeout=30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each piece its own segment
    try:
        for p in pieces:
            s.sendall(p)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    finally:
        s.close()
    assert answer.startswith(b"HTTP/1.1 204"), answer[:300]
    assert s3.get_object(Bucket=bucket, Key=f"split-{split}.bin")["Body"].read() == data
