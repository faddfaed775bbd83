"""The synchronous path for small GETs and HEADs (issue 15, decision 48): the gateway answers a plain
signed GET or HEAD of a small local object inside the connection's pipeline. It must answer exactly
as the async path does, keep answers in request order when both paths serve one connection, and
leave everything it is not sure of to the async path (on PostgreSQL, every request). `fast_path` (gateway counter) tells which
path answered: a request with one header the fast path does not take (`X-Slow: 1`) goes the other
way, so the two answers can be compared."""
import json
import os
import socket
import time
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.skipif(os.environ.get("VOSS_TEST_UPSTREAM") == "rgw", reason="bytes on an upstream platform take the async path")


def counters(voss):
    workers = json.loads(voss.ose("--json", "service", "show").stdout)["workers"]
    return next(w for w in workers if w["name"] == "s3").get("counters") or {}


def fast_count(voss, at_least_requests=0, counter="fast_path"):
    """The fast-path counter once the counters include `at_least_requests` requests (they arrive
    with the keeper's health checks, once a second)."""
    deadline = time.time() + 30
    while True:
        c = counters(voss)
        if c.get("requests", 0) >= at_least_requests or time.time() > deadline:
            return c.get(counter, 0), c.get("requests", 0)
        time.sleep(0.2)


def settled(voss, counter="fast_path"):
    """The fast-path and request counters once every request made so far is in them (two readings a
    health check apart agree)."""
    last = fast_count(voss, counter=counter)
    while True:
        time.sleep(1.2)
        now = fast_count(voss, counter=counter)
        if now == last:
            return now
        last = now


def presigned(s3, op, bucket, key):
    return s3.generate_presigned_url(op, Params={"Bucket": bucket, "Key": key})


VOLATILE = {"x-amz-request-id", "x-amz-id-2", "date"}


def comparable(r):
    return r.status_code, {k.lower(): v for k, v in r.headers.items() if k.lower() not in VOLATILE}, r.content


def test_same_answers_as_the_async_path(voss, s3, bucket):
    body = os.urandom(5000)
    s3.put_object(Bucket=bucket, Key="plain", Body=body)
    s3.put_object(
        Bucket=bucket, Key="dressed/ü €.txt", Body=b"hello", ContentType="text/plain; charset=utf-8", CacheControl="max-age=60",
        ContentDisposition='attachment; filename="a.txt"', ContentEncoding="identity", ContentLanguage="de",
        Metadata={"colour": "blue", "n": "1"}, Tagging="a=1&b=2", ChecksumAlgorithm="SHA256")
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    keys = ["plain", "dressed/ü €.txt", "empty"]
    # boto3 presigns with SigV2 unless told otherwise; both forms take the fast path.
    v4 = voss.client(signature_version="s3v4")
    with requests.Session() as fast, requests.Session() as slow:
        slow.headers["X-Slow"] = "1"
        plan = []
        for key, method, presigner in [(k, m, p) for k in keys for m in ("GET", "HEAD") for p in (s3, v4)]:
            op = "get_object" if method == "GET" else "head_object"
            url = presigner.generate_presigned_url(op, Params={"Bucket": bucket, "Key": key})
            fast.request(method, url)  # the first use of a key fills the caches through the async path
            plan.append((method, key, url))
        before, n0 = settled(voss)
        for method, key, url in plan:
            a = fast.request(method, url)
            b = slow.request(method, url)
            assert a.status_code == 200, a.text
            assert comparable(a) == comparable(b), f"{method} {key}"
        after, _ = fast_count(voss, n0 + 2 * len(plan))
        # On PostgreSQL every read waits for the server: all of them take the async path. On SQLite each
        # plain one takes the fast path — except that the key's cached principal expires every 5 s, and
        # the one request that finds it expired is passed on (the async path looks the key up again).
        if voss.pg:
            assert after == before
        else:
            assert len(plan) - 1 <= after - before <= len(plan), "each plain request should take the fast path, none with X-Slow"
        # With the stored checksum asked for (SigV2 would sign that x-amz- header; this URL signs only the host).
        url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dressed/ü €.txt"})
        a = fast.get(url, headers={"x-amz-checksum-mode": "ENABLED"})
        b = slow.get(url, headers={"x-amz-checksum-mode": "ENABLED"})
        assert "x-amz-checksum-sha256" in a.headers
        assert comparable(a) == comparable(b)
    # An SDK's GET (signed header, x-amz-content-sha256) through boto3 as configured by default.
    got = s3.get_object(Bucket=bucket, Key="plain")
    assert got["Body"].read() == body


def test_errors_and_other_requests_take_the_async_path(voss, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    v4 = voss.client(signature_version="s3v4")
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    v2url = presigned(s3, "get_object", bucket, "k")
    with requests.Session() as sess:
        assert sess.get(url).status_code == 200
        assert sess.get(v2url).status_code == 200
        before, n0 = settled(voss)
        for bad in (url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), v2url.replace("Signature=", "Signature=0")):
            r = sess.get(bad)
            assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content
        missing = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "nope"})
        r = sess.get(missing)
        assert r.status_code == 404 and b"NoSuchKey" in r.content
        r = sess.get(url, headers={"Range": "bytes=1-"})
        assert r.status_code == 206 and r.content == b"bc"
        r = sess.get(url, headers={"If-None-Match": r.headers["ETag"]})
        assert r.status_code == 304
        anonymous = f"{voss.http}/{bucket}/k"
        assert sess.get(anonymous).status_code == 403
        # A header the fast path does not know.
        assert sess.get(url, headers={"X-Slow": "1"}).content == b"abc"
        after, _ = fast_count(voss, n0 + 7)
        assert after == before


def read_response(f, head_only=False):
    status = f.readline()
    assert status.startswith(b"HTTP/1.1 "), status
    headers = {}
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        headers[k.strip().lower()] = v.strip()
    n = 0 if head_only else int(headers.get("content-length", "0"))
    body = f.read(n) if n else b""
    return int(status.split()[1]), headers, body


def request_bytes(method, url, headers=(), body=b""):
    u = urlsplit(url)
    lines = [f"{method} {u.path}{'?' + u.query if u.query else ''} HTTP/1.1", f"Host: {u.netloc}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def test_pipelined_requests_are_answered_in_order(voss, s3, bucket):
    """Fast and async requests mixed on one connection, sent in one write, then byte by byte: the
    answers come back in the order asked, each with its own bytes."""
    a, b = os.urandom(3000), os.urandom(4000)
    s3.put_object(Bucket=bucket, Key="a", Body=a)
    s3.put_object(Bucket=bucket, Key="b", Body=b)
    get_a = presigned(s3, "get_object", bucket, "a")
    get_b = presigned(s3, "get_object", bucket, "b")
    head_a = presigned(s3, "head_object", bucket, "a")
    put_c = presigned(s3, "put_object", bucket, "c")
    get_c = presigned(s3, "get_object", bucket, "c")
    requests.get(get_a), requests.get(get_b), requests.head(head_a)  # caches warm
    plan = [
        ("GET", get_a, (), b"", a), ("PUT", put_c, (), b"cc", b""), ("GET", get_c, (), b"", b"cc"),
        ("GET", get_b, (("X-Slow", "1"),), b"", b), ("HEAD", head_a, (), b"", b""), ("GET", get_b, (), b"", b),
        ("GET", get_a, (), b"", a),
    ]
    wire = b"".join(request_bytes(m, u, h, body) for m, u, h, body, _ in plan)
    for chunks in ([wire], [wire[i:i + 1] for i in range(len(wire))], [wire[i:i + 97] for i in range(0, len(wire), 97)]):
        s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=20)
        try:
            for c in chunks:
                s.sendall(c)
            f = s.makefile("rb")
            for method, _, _, _, expected in plan:
                status, headers, got = read_response(f, head_only=method == "HEAD")
                assert status == 200, (method, status, got[:200])
                assert got == expected
                if method == "HEAD":
                    assert headers["content-length"] == str(len(a))
        finally:
            s.close()


def test_the_raw_front_hands_the_connection_to_the_codec_after_a_request_it_cannot_answer(voss, s3, bucket):
    """The raw front (before NIO's codec) answers what it can; the first request it cannot answer (a
    404 here, a PUT below) goes on to the codec with everything after it, and the fast path behind the
    codec answers the plain GETs that follow, in order with the async answers between them."""
    a, b = os.urandom(3000), os.urandom(100 << 10)
    s3.put_object(Bucket=bucket, Key="a", Body=a)
    s3.put_object(Bucket=bucket, Key="big", Body=b)
    get_a = presigned(s3, "get_object", bucket, "a")
    head_a = presigned(s3, "head_object", bucket, "a")
    get_big = presigned(s3, "get_object", bucket, "big")
    missing = presigned(s3, "get_object", bucket, "nope")
    put_c = presigned(s3, "put_object", bucket, "c")
    requests.get(get_a), requests.head(head_a)  # caches warm
    plan = [
        ("GET", get_a, (), b"", 200, a), ("GET", missing, (), b"", 404, None), ("GET", get_a, (), b"", 200, a),
        ("HEAD", head_a, (), b"", 200, b""), ("GET", get_a, (("Range", "bytes=0-9"),), b"", 206, a[:10]),
        ("GET", get_big, (), b"", 200, b), ("GET", get_a, (), b"", 200, a),
    ]
    # The raw front answers the first GET; the codec's fast path the two GETs and the HEAD after the 404.
    raw_expected, fast_expected = (0, 0) if voss.pg else (1, 4)
    raw0, n0 = settled(voss, "fast_path_raw")
    fast0, _ = fast_count(voss, n0)
    wire = b"".join(request_bytes(m, u, h, body) for m, u, h, body, _, _ in plan)
    s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=20)
    try:
        s.sendall(wire)
        f = s.makefile("rb")
        for method, _, _, _, status, expected in plan:
            got_status, headers, got = read_response(f, head_only=method == "HEAD")
            assert got_status == status, (method, got_status, got[:200])
            if expected is not None:
                assert got == expected
    finally:
        s.close()
    raw1, _ = fast_count(voss, n0 + len(plan), "fast_path_raw")
    fast1, _ = fast_count(voss, n0 + len(plan))
    # (One request may find the key's cached principal expired, 5 s, and go the async way.)
    assert raw_expected - 1 <= raw1 - raw0 <= raw_expected
    assert fast_expected - 1 <= fast1 - fast0 <= fast_expected
    # A PUT first: the codec keeps the connection from its first byte, and the fast path after it
    # answers the GETs that follow.
    fast0, n1 = settled(voss)
    raw0, _ = fast_count(voss, n1, "fast_path_raw")
    s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=20)
    try:
        s.sendall(request_bytes("PUT", put_c, body=b"cc") + request_bytes("GET", get_a) + request_bytes("GET", get_a))
        f = s.makefile("rb")
        assert read_response(f)[0] == 200
        for _ in range(2):
            assert read_response(f)[::2] == (200, a)
    finally:
        s.close()
    fast1, _ = fast_count(voss, n1 + 3)
    raw1, _ = fast_count(voss, n1 + 3, "fast_path_raw")
    assert raw1 == raw0
    if not voss.pg:
        assert 1 <= fast1 - fast0 <= 2


def test_a_header_with_a_line_break_is_never_stored_nor_sent(voss, s3, bucket):
    """A form upload's fields become stored headers; one with CR LF in it (a browser form can send
    that) is refused with InvalidArgument instead of being stored and breaking every later GET, and
    no path sends such a value as a line of its own."""
    form = s3.generate_presigned_post(bucket, "evil", Fields={"Content-Type": "text/plain\r\nX-Injected: 1"},
                                      Conditions=[["starts-with", "$Content-Type", "text/"]], ExpiresIn=600)
    r = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"evil")})
    assert r.status_code == 400 and "InvalidArgument" in r.text, r.text
    form = s3.generate_presigned_post(bucket, "evil", Fields={"x-amz-meta-a b": "1"}, Conditions=[{"x-amz-meta-a b": "1"}], ExpiresIn=600)
    r = requests.post(form["url"], data=form["fields"], files={"file": ("f", b"evil")})
    assert r.status_code == 400 and "InvalidArgument" in r.text, r.text
    s3.put_object(Bucket=bucket, Key="evil", Body=b"evil")
    url = presigned(s3, "get_object", bucket, "evil")
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=10)
        try:
            s.sendall(request_bytes("GET", url, [("Connection", "close")]))
            answer = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
        finally:
            s.close()
        assert b"\r\nX-Injected" not in answer, answer[:600]


def answers(port, wire):
    """Every answer the gateway gives to `wire` on one connection, as (status, body), until it closes
    or goes quiet."""
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    out = []
    try:
        s.sendall(wire)
        f = s.makefile("rb")
        while True:
            try:
                status, headers, body = read_response(f)
            except (AssertionError, OSError, ValueError):
                break
            out.append((status, body))
    finally:
        s.close()
    return out


def test_smuggling_shaped_requests_are_read_as_with_the_fast_path_off(voss, s3, bucket):
    """Requests whose end a lenient parser could place elsewhere (a body hiding a request, chunked,
    both lengths, folded or bare-LF lines, a space before the colon) followed by a plain GET: the
    gateway answers exactly as it does with the fast path off, where only NIO's decoder reads."""
    s3.put_object(Bucket=bucket, Key="k", Body=b"the object")
    url = presigned(s3, "get_object", bucket, "k")
    requests.get(url)
    u = urlsplit(url)
    target = f"{u.path}?{u.query}"
    host = f"Host: {u.netloc}\r\n"
    inner = f"GET {target} HTTP/1.1\r\n{host}\r\n".encode()
    plain = request_bytes("GET", url)
    shapes = [
        f"GET {target} HTTP/1.1\r\n{host}Content-Length: {len(inner)}\r\n\r\n".encode() + inner,
        f"GET {target} HTTP/1.1\r\n{host}Transfer-Encoding: chunked\r\n\r\n{len(inner):x}\r\n".encode() + inner + b"\r\n0\r\n\r\n",
        f"GET {target} HTTP/1.1\r\n{host}Content-Length: {len(inner)}\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode() + inner,
        f"GET {target} HTTP/1.1\r\n{host}X-A: 1\r\n Content-Length: {len(inner)}\r\n\r\n".encode() + inner,
        f"GET {target} HTTP/1.1\n{host.replace(chr(13), '')}Content-Length: {len(inner)}\n\n".encode() + inner,
        f"GET {target} HTTP/1.1\r\n{host}Content-Length : {len(inner)}\r\n\r\n".encode() + inner,
        f"GET {target} HTTP/1.1\r\n{host}X-A: 1\rContent-Length: {len(inner)}\r\n\r\n".encode() + inner,
        f"GET {target} HTTP/1.1\r\n{host}Content-Length: 0\r\nContent-Length: {len(inner)}\r\n\r\n".encode() + inner,
        f"GET {target} HTTP/1.1\r\n{host}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n".encode() + inner,
        f"GET {target} HTTP/1.0\r\n{host}Connection: keep-alive\r\n\r\n".encode() + inner,
        inner + b"\x00\x01garbage\r\n\r\n",
    ]
    port = voss.k.s3_http_port
    on = [answers(port, shape + plain) for shape in shapes]
    voss.ose("args", "set", "--k", "s3.fast_path", "--v", "off")
    try:
        time.sleep(1.5)  # the gateway reloads its settings
        off = [answers(port, shape + plain) for shape in shapes]
    finally:
        voss.ose("args", "set", "--k", "s3.fast_path", "--v", "on")
    for shape, a, b in zip(shapes, on, off):
        assert a == b, (shape, a, b)


def test_connection_close_and_a_get_with_a_body(voss, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"xyz")
    url = presigned(s3, "get_object", bucket, "k")
    requests.get(url)
    s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=10)
    try:
        # A request pipelined after the one that says close is not served (NIO's decoder may answer
        # it 400), and the server closes.
        s.sendall(request_bytes("GET", url, [("Connection", "close")]) + request_bytes("GET", url))
        f = s.makefile("rb")
        status, headers, body = read_response(f)
        assert (status, body, headers["connection"]) == (200, b"xyz", "close")
        rest = f.read()
        assert rest == b"" or rest.startswith(b"HTTP/1.1 400"), rest
    finally:
        s.close()
    # A GET that carries a body goes the async way, and the connection stays in step.
    s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=10)
    try:
        s.sendall(request_bytes("GET", url, body=b"12345") + request_bytes("GET", url))
        f = s.makefile("rb")
        for _ in range(2):
            status, _, body = read_response(f)
            assert (status, body) == (200, b"xyz")
    finally:
        s.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def test_a_client_that_does_not_read_cannot_grow_the_gateway(voss, s3, bucket):
    """4,000 pipelined GETs of a 64 KiB object (250 MiB of answers) from a client that reads nothing
    for a while: the answers wait in the socket, not in the gateway's memory, then all arrive."""
    body = os.urandom(64 << 10)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    url = presigned(s3, "get_object", bucket, "big")
    requests.get(url)
    pid = voss.k.worker("s3")["pid"]
    before = rss_kib(pid)
    n = 4000
    one = request_bytes("GET", url)
    s = socket.create_connection(("127.0.0.1", voss.k.s3_http_port), timeout=30)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    try:
        s.setblocking(False)
        sent, data = 0, one * n
        deadline = time.time() + 5
        while sent < len(data) and time.time() < deadline:
            try:
                sent += s.send(data[sent:sent + (1 << 20)])
            except BlockingIOError:
                time.sleep(0.05)
        time.sleep(1)
        grown = rss_kib(pid) - before
        assert grown < 64 << 10, f"gateway grew {grown} KiB while the client read nothing"
        s.setblocking(True)
        if sent < len(data):
            s.sendall(data[sent:])
        f = s.makefile("rb")
        for i in range(n):
            status, _, got = read_response(f)
            assert status == 200 and got == body, i
    finally:
        s.close()
