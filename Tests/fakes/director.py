"""A test server for the VMware Cloud Director API, written from VMware's published API reference
(developer.broadcom.com/xapis/vmware-cloud-director-api and the CloudAPI/OpenAPI reference) with only
the calls VOSS makes: GET /api/versions (XML SupportedVersions/VersionInfo), POST
/cloudapi/1.0.0/sessions/provider and /cloudapi/1.0.0/sessions (HTTP Basic user@org:password → the
token in X-VMWARE-VCLOUD-ACCESS-TOKEN, a Session JSON body), GET /cloudapi/1.0.0/sessions/current
(Bearer), GET /cloudapi/1.0.0/roles/{id}/rights (paged EntityReferences), and the UI extension API:
GET/POST /cloudapi/extensions/ui, POST/DELETE /cloudapi/extensions/ui/{id}/plugin (the upload answers
204 with a Link rel="upload:default" to the transfer service), PUT /transfer/{id}/{file},
POST /cloudapi/extensions/ui/{id}/tenants/publishAll, DELETE /cloudapi/extensions/ui/{id}.
No director can run here; every request is recorded for the tests."""
import base64
import json
import secrets
import threading
import uuid
from http.server import ThreadingHTTPServer

from fakes.vendor_admin import _Handler

UI_PLUGINS_VIEW = "UI Plugins: View"
ADMIN_VIEW = "General: Administrator View"
PVDC_VIEW = "Provider VDC: View"
ORG_VDC_VIEW = "Organization vDC: View"


class Director:
    def __init__(self, versions=("33.0", "36.0", "37.2"), deprecated=("33.0",)):
        self.versions, self.deprecated = versions, deprecated
        self.requests = []
        self.fail = {}
        self.lock = threading.Lock()
        # role name → rights (as in a real director's role catalogue)
        self.roles = {
            "System Administrator": [UI_PLUGINS_VIEW, ADMIN_VIEW, PVDC_VIEW, ORG_VDC_VIEW],
            "Organization Administrator": [UI_PLUGINS_VIEW, ADMIN_VIEW, ORG_VDC_VIEW],
            "vApp User": [UI_PLUGINS_VIEW, "vApp: View"],
            "Console Access Only": ["vApp: Console"],
        }
        self.role_ids = {name: f"urn:vcloud:role:{uuid.uuid4()}" for name in self.roles}
        self.users = {}  # (user, org) -> (password, role name)
        self.tokens = {}  # token -> (user, org)
        self.plugins = {}  # id -> metadata
        self.files = {}  # plugin id -> bytes
        self.transfers = {}  # transfer id -> plugin id
        self.published = set()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.fake = self
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def add_user(self, user, org, password, role):
        self.users[(user.lower(), org.lower())] = (password, role, user, org)

    def login_token(self, user, org):
        """A token as the director's own UI holds it for a logged-in user."""
        t = secrets.token_urlsafe(24)
        self.tokens[t] = (user, org)
        return t

    def _json(self, h, status, obj, headers=()):
        return h._send(status, json.dumps(obj).encode(), "application/json;version=36.0", headers=headers)

    def _error(self, h, status, msg):
        return self._json(h, status, {"minorErrorCode": "ACCESS_DENIED" if status in (401, 403) else "BAD_REQUEST", "message": msg})

    def _session(self, user, org):
        _, role, uname, oname = self.users[(user.lower(), org.lower())]
        return {"id": f"urn:vcloud:session:{uuid.uuid4()}", "user": {"name": uname, "id": f"urn:vcloud:user:{uname}"},
                "org": {"name": oname, "id": f"urn:vcloud:org:{oname}"}, "location": "vcd",
                "roles": [role], "roleRefs": [{"name": role, "id": self.role_ids[role]}], "sessionIdleTimeoutMinutes": 30}

    def handle(self, h, path, q, body):
        if path == "/api/versions" and h.command == "GET":
            infos = "".join(
                f'<VersionInfo deprecated="{str(v in self.deprecated).lower()}"><Version>{v}</Version>'
                f"<LoginUrl>{self.url}/api/sessions</LoginUrl></VersionInfo>" for v in self.versions)
            return h._send(200, ('<?xml version="1.0" encoding="UTF-8"?><SupportedVersions xmlns="http://www.vmware.com/vcloud/versions">'
                                 + infos + "</SupportedVersions>").encode(), "application/*+xml")
        if path == "/ui-host" and h.command == "GET":
            # Stands in for the director's own page: loads the installed plugin's bundle with a minimal
            # AMD `define` and mounts it with the user's session token, as the director's UI does.
            pid, token = q["plugin"], q["token"]
            page = ("<!doctype html><html><body><div id='host'></div><script>var mod; function define(d, f) { mod = f(); }</script>"
                    f"<script src='/plugin-file/{urllib_quote(pid)}/bundle.js'></script>"
                    f"<script>mod.VossModule.mount(document.getElementById('host'), {{token: {json.dumps(token)}}});</script></body></html>")
            return h._send(200, page.encode(), "text/html")
        if path.startswith("/plugin-file/") and h.command == "GET":
            import io
            import zipfile
            pid = urllib_unquote(path.split("/")[2])
            if pid not in self.files:
                return self._error(h, 404, "no such plugin file")
            return h._send(200, zipfile.ZipFile(io.BytesIO(self.files[pid])).read(path.split("/")[3]), "text/javascript")
        accept = h.headers.get("Accept", "")
        if path.startswith("/cloudapi/") and "version=" not in accept:
            return self._error(h, 406, "The request has no API version in its Accept header")
        if path in ("/cloudapi/1.0.0/sessions/provider", "/cloudapi/1.0.0/sessions") and h.command == "POST":
            auth = h.headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return self._error(h, 401, "no credentials")
            login, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            user, _, org = login.rpartition("@")
            rec = self.users.get((user.lower(), org.lower()))
            provider = path.endswith("/provider")
            if not rec or rec[0] != password or (provider != (org.lower() == "system")):
                return self._error(h, 401, "bad credentials")
            t = secrets.token_urlsafe(24)
            self.tokens[t] = (user, org)
            return self._json(h, 200, self._session(user, org), headers=[("X-VMWARE-VCLOUD-ACCESS-TOKEN", t), ("X-VMWARE-VCLOUD-TOKEN-TYPE", "Bearer")])
        if path.startswith("/transfer/") and h.command == "PUT":
            tid = path.split("/")[2]
            pid = self.transfers.pop(tid, None)
            if pid is None:
                return self._error(h, 404, "no such transfer")
            self.files[pid] = body
            self.plugins[pid]["plugin_status"] = "ready"
            return h._send(200)
        auth = h.headers.get("Authorization", "")
        who = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if not who:
            return self._error(h, 401, "not logged in")
        if path == "/cloudapi/1.0.0/sessions/current" and h.command == "GET":
            return self._json(h, 200, self._session(*who))
        is_sys = who[1].lower() == "system"
        if path.startswith("/cloudapi/1.0.0/roles/") and path.endswith("/rights") and h.command == "GET":
            if not is_sys:
                return self._error(h, 403, "only the provider reads other roles' rights here")
            rid = urllib_unquote(path.split("/")[4])
            name = next((n for n, i in self.role_ids.items() if i == rid), None)
            if name is None:
                return self._error(h, 404, "no such role")
            page, size = int(q.get("page", "1")), min(int(q.get("pageSize", "25")), 128)
            rights = self.roles[name]
            chunk = rights[(page - 1) * size: page * size]
            return self._json(h, 200, {"resultTotal": len(rights), "pageCount": max(1, -(-len(rights) // size)), "page": page,
                                       "pageSize": size, "values": [{"name": r, "id": f"urn:vcloud:right:{r}"} for r in chunk]})
        if not is_sys:
            return self._error(h, 403, "provider only")
        with self.lock:
            if path == "/cloudapi/extensions/ui" and h.command == "GET":
                return self._json(h, 200, list(self.plugins.values()))
            if path == "/cloudapi/extensions/ui" and h.command == "POST":
                meta = json.loads(body)
                for k in ("pluginName", "vendor", "version", "license", "link"):
                    if not meta.get(k):
                        return self._error(h, 400, f"{k} is required")
                pid = f"urn:vcloud:uiPlugin:{uuid.uuid4()}"
                meta.update({"id": pid, "plugin_status": "unavailable", "resourcePath": None})
                self.plugins[pid] = meta
                return self._json(h, 201, meta)
            parts = path.split("/")
            if len(parts) >= 5 and parts[:4] == ["", "cloudapi", "extensions", "ui"]:
                pid = urllib_unquote(parts[4])
                if pid not in self.plugins:
                    return self._error(h, 404, "no such plugin")
                rest = parts[5:]
                if rest == ["plugin"] and h.command == "POST":
                    spec = json.loads(body)
                    if not spec.get("fileName") or not isinstance(spec.get("size"), int):
                        return self._error(h, 400, "fileName and size are required")
                    tid = str(uuid.uuid4())
                    self.transfers[tid] = pid
                    link = f'<{self.url}/transfer/{tid}/{spec["fileName"]}>;rel="upload:default";type="application/octet-stream"'
                    return h._send(204, headers=[("Link", link)])
                if rest == ["plugin"] and h.command == "DELETE":
                    self.files.pop(pid, None)
                    self.plugins[pid]["plugin_status"] = "unavailable"
                    return h._send(204)
                if rest == ["tenants", "publishAll"] and h.command == "POST":
                    self.published.add(pid)
                    return self._json(h, 200, {"values": []})
                if rest == [] and h.command == "DELETE":
                    if pid in self.files:
                        return self._error(h, 400, "delete the plugin resource first")
                    del self.plugins[pid]
                    self.published.discard(pid)
                    return h._send(204)
                if rest == [] and h.command == "GET":
                    return self._json(h, 200, self.plugins[pid])
        return self._error(h, 404, f"no such API: {h.command} {path}")


def urllib_unquote(s):
    import urllib.parse
    return urllib.parse.unquote(s)


def urllib_quote(s):
    import urllib.parse
    return urllib.parse.quote(s, safe="")
