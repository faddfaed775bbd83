"""Test servers for the admin APIs of platforms that cannot run here, written from the vendors'
published API references — Cloudian's HyperStore Admin API reference and Dell's ECS Management REST
API reference (portal.ecstestdrive.com/Document/ECS/3.8/apidocs) — with only the calls VOSS makes.
When asked for S3 credentials they make a real user with those keys on a real Ceph RGW (radosgw-admin),
so the S3 side of the tests is real. Every request is recorded (`requests`) for the tests to check."""
import base64
import json
import secrets
import subprocess
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status, body=b"", ctype="application/json", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if body or status not in (204,):
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        body = self._body()
        fake = self.server.fake
        fake.requests.append((self.command, url.path, query))
        with fake.lock:
            failing = fake.fail.get((self.command, url.path), 0) > 0
            if failing:
                fake.fail[(self.command, url.path)] -= 1
        if failing:
            return self._send(503, b"Service Unavailable", "text/plain")
        fake.handle(self, url.path, query, body)

    do_GET = do_PUT = do_POST = do_DELETE = _dispatch


class _Fake:
    def __init__(self, rgw_admin, user, password, port=0):
        self.rgw_admin = rgw_admin  # callable(*args) -> radosgw-admin output (JSON)
        self.user, self.password = user, password
        self.requests = []
        self.fail = {}  # path -> how many more requests to it get 503 (a fault half way through provisioning)
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def basic_ok(self, h):
        auth = h.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            u, p = base64.b64decode(auth[6:]).decode().split(":", 1)
        except Exception:
            return False
        return u == self.user and p == self.password

    def make_rgw_user(self, uid, access_key, secret_key):
        self.rgw_admin("user", "create", "--uid", uid, "--display-name", uid, "--access-key", access_key, "--secret", secret_key)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class HyperStoreAdmin(_Fake):
    """GET/PUT /group, GET/PUT /user, GET /user/credentials/list, PUT /user/credentials, POST /qos/limits;
    HTTP Basic as the system admin; GET answers 204 for an unknown group or user."""

    def __init__(self, rgw_admin, user="sysadmin", password="Admin-pw1!"):
        super().__init__(rgw_admin, user, password)
        self.groups, self.users, self.creds, self.quotas = {}, {}, {}, {}

    def handle(self, h, path, q, body):
        if not self.basic_ok(h):
            return h._send(401, b"Unauthorized", "text/plain")
        with self.lock:
            if path == "/group" and h.command == "GET":
                g = self.groups.get(q.get("groupId"))
                return h._send(200, json.dumps(g).encode()) if g else h._send(204)
            if path == "/group" and h.command == "PUT":
                g = json.loads(body)
                if g["groupId"] in self.groups:
                    return h._send(409, b"group exists", "text/plain")
                self.groups[g["groupId"]] = g
                return h._send(200)
            key = (q.get("userId"), q.get("groupId"))
            if path == "/user" and h.command == "GET":
                u = self.users.get(key)
                return h._send(200, json.dumps(u).encode()) if u else h._send(204)
            if path == "/user" and h.command == "PUT":
                u = json.loads(body)
                k = (u["userId"], u["groupId"])
                if u["groupId"] not in self.groups:
                    return h._send(400, b"group does not exist", "text/plain")
                if k in self.users:
                    return h._send(409, b"user exists", "text/plain")
                self.users[k] = u
                return h._send(200)
            if path == "/user/credentials/list" and h.command == "GET":
                c = self.creds.get(key, [])
                return h._send(200, json.dumps(c).encode()) if c else h._send(204)
            if path == "/user/credentials" and h.command == "PUT":
                if key not in self.users:
                    return h._send(400, b"user does not exist", "text/plain")
                ak, sk = "HS" + secrets.token_hex(9).upper(), secrets.token_urlsafe(30)
                self.make_rgw_user(f"hs-{key[1]}-{key[0]}", ak, sk)
                c = {"accessKey": ak, "secretKey": sk, "createDate": 0, "active": True}
                self.creds.setdefault(key, []).append(c)
                return h._send(200, json.dumps(c).encode())
            if path == "/qos/limits" and h.command == "POST":
                self.quotas[q.get("groupId")] = q
                return h._send(204)
        return h._send(404, b"no such resource", "text/plain")


class ECSManagement(_Fake):
    """GET /login (Basic → X-SDS-AUTH-TOKEN), GET /vdc/data-service/vpools, GET/POST namespaces, GET user
    info, POST /object/users, GET/POST /object/user-secret-keys, PUT namespace quota; XML bodies."""

    def __init__(self, rgw_admin, user="root", password="Admin-pw1!"):
        super().__init__(rgw_admin, user, password)
        self.tokens, self.namespaces, self.users, self.keys, self.quotas = set(), {}, {}, {}, {}

    def _xml(self, h, status, xml):
        return h._send(status, ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml).encode(), "application/xml")

    def _error(self, h, status, code, desc):
        return self._xml(h, status, f"<error><code>{code}</code><description>{escape(desc)}</description></error>")

    def handle(self, h, path, q, body):
        if path == "/login":
            if not self.basic_ok(h):
                return h._send(401, b"Unauthorized", "text/plain")
            t = secrets.token_hex(16)
            self.tokens.add(t)
            return h._send(200, f"<loggedIn><user>{escape(self.user)}</user></loggedIn>".encode(), "application/xml",
                           headers=[("X-SDS-AUTH-TOKEN", t)])
        if h.headers.get("X-SDS-AUTH-TOKEN") not in self.tokens:
            return h._send(401, b"Unauthorized", "text/plain")
        import xml.etree.ElementTree as ET
        with self.lock:
            if path == "/vdc/data-service/vpools" and h.command == "GET":
                return self._xml(h, 200, "<data_service_vpools><data_service_vpool><id>urn:storageos:ReplicationGroupInfo:fake:global</id>"
                                         "<name>rg1</name></data_service_vpool></data_service_vpools>")
            if path.startswith("/object/namespaces/namespace/") and path.endswith("/quota") and h.command == "PUT":
                ns = path.split("/")[4]
                self.quotas[ns] = body.decode()
                return self._xml(h, 200, "<namespace_quota_details/>")
            if path.startswith("/object/namespaces/namespace/") and h.command == "GET":
                ns = path.split("/")[4]
                if ns not in self.namespaces:
                    return self._error(h, 400, 1004, f"namespace {ns} not found")
                return self._xml(h, 200, f"<namespace><id>{escape(ns)}</id><name>{escape(ns)}</name></namespace>")
            if path == "/object/namespaces/namespace" and h.command == "POST":
                x = ET.fromstring(body)
                ns = x.findtext("namespace")
                if not x.findtext("default_data_services_vpool"):
                    return self._error(h, 400, 1008, "default_data_services_vpool is required")
                if ns in self.namespaces:
                    return self._error(h, 400, 1005, "namespace exists")
                self.namespaces[ns] = x.findtext("default_data_services_vpool")
                return self._xml(h, 200, f"<namespace><id>{escape(ns)}</id><name>{escape(ns)}</name></namespace>")
            if path.startswith("/object/users/") and path.endswith("/info") and h.command == "GET":
                uid = path.split("/")[3]
                if (uid, q.get("namespace")) not in self.users:
                    return self._error(h, 400, 1004, f"user {uid} not found")
                return self._xml(h, 200, f"<user_info><namespace>{escape(q.get('namespace'))}</namespace><name>{escape(uid)}</name></user_info>")
            if path == "/object/users" and h.command == "POST":
                x = ET.fromstring(body)
                uid, ns = x.findtext("user"), x.findtext("namespace")
                if ns not in self.namespaces:
                    return self._error(h, 400, 1004, f"namespace {ns} not found")
                self.users[(uid, ns)] = True
                return self._xml(h, 200, f'<user_secret_key><secret_key></secret_key><link rel="self" href="/object/user-secret-keys/{escape(uid)}"/></user_secret_key>')
            if path.startswith("/object/user-secret-keys/") and h.command == "GET":
                parts = path.split("/")
                uid, ns = parts[3], parts[4] if len(parts) > 4 else None
                sk = self.keys.get((uid, ns), "")
                return self._xml(h, 200, f"<user_secret_keys><secret_key_1>{escape(sk)}</secret_key_1><secret_key_2></secret_key_2></user_secret_keys>")
            if path.startswith("/object/user-secret-keys/") and h.command == "POST":
                uid = path.split("/")[3]
                ns = ET.fromstring(body).findtext("namespace")
                if (uid, ns) not in self.users:
                    return self._error(h, 400, 1004, f"user {uid} not found")
                sk = secrets.token_urlsafe(30)
                self.make_rgw_user(f"ecs-{uid}", uid, sk)
                self.keys[(uid, ns)] = sk
                return self._xml(h, 200, f"<user_secret_key><secret_key>{escape(sk)}</secret_key><key_timestamp>2026-12-02 10:00:00.000</key_timestamp></user_secret_key>")
        return h._send(404, b"no such resource", "text/plain")
