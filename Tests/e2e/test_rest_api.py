"""The tenant/provider REST API (`/api/v1/…`): logins, the role matrix (3 tenants × 3 roles × every
action, nothing of another tenant leaked), objects through it, share links, login throttling, and
the OpenAPI document checked against every answer and every route."""
import glob
import hashlib
import json
import os
import time
import urllib.parse
import uuid

import pytest
import requests

PASSWORD = "Str0ng!pass"
ROLES = ("tenant-user", "tenant-admin", "provider-admin")
CALLED = set()  # (method, template) of every route this module called


def template_of(doc, method, path):
    """The OpenAPI path template matching a concrete path."""
    parts = path.split("?")[0].strip("/").split("/")
    for t, ops in doc["paths"].items():
        segs = t.strip("/").split("/")
        if len(segs) == len(parts) and method.lower() in ops and all(
                s.startswith("{") or s == p for s, p in zip(segs, parts)):
            return t
    return None


def check_schema(doc, schema, value, where="$"):
    """The subset of JSON Schema the document uses: $ref, type object/array/string/integer/boolean,
    required, enum."""
    if "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    t = schema.get("type")
    if t == "object":
        assert isinstance(value, dict), f"{where}: not an object: {value!r}"
        for r in schema.get("required", []):
            assert r in value, f"{where}: missing {r} in {value!r}"
        for k, sub in schema.get("properties", {}).items():
            if k in value and value[k] is not None:
                check_schema(doc, sub, value[k], f"{where}.{k}")
    elif t == "array":
        assert isinstance(value, list), f"{where}: not an array"
        for i, v in enumerate(value):
            check_schema(doc, schema["items"], v, f"{where}[{i}]")
    elif t == "string":
        assert isinstance(value, str), f"{where}: not a string: {value!r}"
        if "enum" in schema:
            assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    elif t == "integer":
        assert isinstance(value, int), f"{where}: not an integer"
    elif t == "boolean":
        assert isinstance(value, bool), f"{where}: not a boolean"


class API:
    def __init__(self, voss):
        self.base = voss.http
        self.doc = requests.get(self.base + "/api/v1/openapi.json").json()

    def call(self, method, path, token=None, body=None, data=None, expect=None, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        r = requests.request(method, self.base + "/api/v1" + path, headers=h,
                             json=body if data is None else None, data=data)
        t = template_of(self.doc, method, "/api/v1" + path)
        assert t, f"{method} {path} is not in the OpenAPI document"
        CALLED.add((method, t))
        if expect is not None:
            assert r.status_code == expect, f"{method} {path}: {r.status_code} {r.text}"
        op = self.doc["paths"][t][method.lower()]
        if r.headers.get("Content-Type", "").startswith("application/json") and r.content:
            status = str(r.status_code)
            resp = op["responses"].get(status) or op["responses"]["default"]
            schema = resp.get("content", {}).get("application/json", {}).get("schema")
            if schema:
                check_schema(self.doc, schema, r.json(), f"{method} {t} {status}")
        return r


@pytest.fixture(scope="module")
def api(voss):
    return API(voss)


@pytest.fixture(scope="module")
def world(voss, api):
    """Three tenants, each with a user of every role, all with passwords, all logged in."""
    run = uuid.uuid4().hex[:6]
    tenants = [f"rest{run}{c}" for c in "abc"]
    tokens = {}
    for t in tenants:
        voss.ose("tenant", "create", "--name", t, check=True)
        for role in ROLES:
            name = role.replace("-", "")
            voss.ose("user", "create", "--tenant", t, "--name", name, "--role", role, check=True)
            voss.ose("user", "passwd", "--tenant", t, "--name", name, "--secret", PASSWORD, check=True)
            r = api.call("POST", "/login", body={"tenant": t, "user": name, "password": PASSWORD}, expect=200)
            assert r.json()["me"]["role"] == role
            tokens[(t, role)] = r.json()["token"]
    return tenants, tokens


def name(role):
    return role.replace("-", "")


def test_ose_user_passwd_enforces_the_policy_unless_forced(voss, api, world):
    tenants, tokens = world
    r = voss.ose("user", "passwd", "--tenant", tenants[0], "--name", "tenantuser", "--secret", "weak", check=False)
    assert r.returncode != 0 and "upper-case" in (r.stdout + r.stderr).lower()
    # --force skips the policy (the user then logs in with it).
    voss.ose("user", "passwd", "--tenant", tenants[0], "--name", "tenantuser", "--secret", "weak", "--force")
    voss.ose("user", "passwd", "--tenant", tenants[0], "--name", "tenantuser", "--secret", PASSWORD)
    # A new password ended the user's session.
    api.call("GET", "/me", tokens[(tenants[0], "tenant-user")], expect=401)
    r = api.call("POST", "/login", body={"tenant": tenants[0], "user": "tenantuser", "password": PASSWORD}, expect=200)
    tokens[(tenants[0], "tenant-user")] = r.json()["token"]
    r = voss.ose("user", "passwd", "--tenant", tenants[0], "--name", "nobody", "--secret", PASSWORD, check=False)
    assert r.returncode != 0


def test_me_and_the_token_lifecycle(api, world):
    tenants, tokens = world
    for (t, role), tok in tokens.items():
        me = api.call("GET", "/me", tok, expect=200).json()
        assert (me["tenant"], me["role"], me["name"]) == (t, role, name(role))
    for bad in (None, "x" * 40, "Bearer", tokens[(tenants[0], "tenant-user")][:-2] + "zz"):
        r = api.call("GET", "/me", bad, expect=401)
        assert r.json()["error"]["code"] == "unauthorized"
    # Logging out ends the session at once.
    tok = api.call("POST", "/login", body={"tenant": tenants[2], "user": "tenantuser", "password": PASSWORD}, expect=200).json()["token"]
    api.call("GET", "/me", tok, expect=200)
    api.call("POST", "/logout", tok, expect=200)
    api.call("GET", "/me", tok, expect=401)


def test_the_role_matrix_for_tenants_and_users(api, world):
    tenants, tokens = world
    for (t, role), tok in tokens.items():
        listed = {x["name"] for x in api.call("GET", "/tenants", tok, expect=200).json()["tenants"]}
        if role == "provider-admin":
            assert set(tenants) <= listed
        else:
            assert listed == {t}, f"{role} of {t} sees {listed}"
        # Creating tenants: provider admins only.
        new = "rt" + uuid.uuid4().hex[:8]
        r = api.call("POST", "/tenants", tok, body={"name": new})
        assert r.status_code == (201 if role == "provider-admin" else 403), (role, r.text)
        if r.status_code == 201:
            api.call("DELETE", f"/tenants/{new}", tok, expect=200)
        for other in tenants:
            own = other == t
            r = api.call("GET", f"/tenants/{other}/users", tok)
            want = 200 if role == "provider-admin" or (own and role == "tenant-admin") else (403 if own else 404)
            assert r.status_code == want, (role, t, other, r.status_code, r.text)
            if r.status_code == 200:
                assert {u["name"] for u in r.json()["users"]} >= {name(x) for x in ROLES}
            if r.status_code == 404:
                assert other not in r.text or "tenant" in r.text  # names only what was asked for
            # Deleting another tenant: never for tenant roles (404 hides that it exists).
            r = api.call("DELETE", f"/tenants/{other}", tok)
            assert r.status_code in ((409,) if role == "provider-admin" else ((403,) if own else (404,))), (role, r.text)
            # Creating a user there.
            u = "u" + uuid.uuid4().hex[:8]
            r = api.call("POST", f"/tenants/{other}/users", tok, body={"name": u, "role": "tenant-user", "password": PASSWORD})
            assert r.status_code == (201 if want == 200 else want), (role, t, other, r.text)
            if r.status_code == 201:
                # The new user can log in with the password it was given.
                api.call("POST", "/login", body={"tenant": other, "user": u, "password": PASSWORD}, expect=200)
                api.call("DELETE", f"/tenants/{other}/users/{u}", tok, expect=200)
            # Only a provider admin makes provider admins.
            r = api.call("POST", f"/tenants/{other}/users", tok, body={"name": u, "role": "provider-admin"})
            assert r.status_code == (201 if role == "provider-admin" else (403 if own or want == 200 else 404)), (role, r.text)
            if r.status_code == 201:
                api.call("DELETE", f"/tenants/{other}/users/{u}", tok, expect=200)


def test_a_tenant_admin_cannot_touch_a_provider_admin_or_delete_itself(api, world):
    tenants, tokens = world
    t = tenants[0]
    adm = tokens[(t, "tenant-admin")]
    for path, method, body in ((f"/tenants/{t}/users/provideradmin", "DELETE", None),
                               (f"/tenants/{t}/users/provideradmin/password", "PUT", {"password": PASSWORD + "x"}),
                               (f"/tenants/{t}/users/provideradmin/keys", "GET", None),
                               (f"/tenants/{t}/users/provideradmin/keys", "POST", None)):
        api.call(method, path, adm, body=body, expect=403)
    api.call("DELETE", f"/tenants/{t}/users/tenantadmin", adm, expect=409)


def test_keys_belong_to_their_user_and_its_admins(api, world):
    tenants, tokens = world
    for (t, role), tok in tokens.items():
        for other in tenants:
            for target_role in ROLES:
                path = f"/tenants/{other}/users/{name(target_role)}/keys"
                allowed = (role == "provider-admin"
                           or (other == t and (role == target_role
                                               or (role == "tenant-admin" and target_role == "tenant-user"))))
                r = api.call("GET", path, tok)
                want = 200 if allowed else (404 if other != t and role != "provider-admin" else 403)
                assert r.status_code == want, (role, t, other, target_role, r.status_code, r.text)
    # Create (secret shown once), list (no secret), delete: by the user itself.
    t = tenants[1]
    tok = tokens[(t, "tenant-user")]
    k = api.call("POST", f"/tenants/{t}/users/tenantuser/keys", tok, expect=201).json()
    assert k["secret"] and k["accessKey"]
    listed = api.call("GET", f"/tenants/{t}/users/tenantuser/keys", tok, expect=200).json()["keys"]
    assert [x.get("secret") for x in listed if x["accessKey"] == k["accessKey"]] == [None]
    # Another tenant's admin cannot delete it, and is told it does not exist.
    api.call("DELETE", f"/keys/{k['accessKey']}", tokens[(tenants[0], "tenant-admin")], expect=404)
    api.call("DELETE", f"/keys/{k['accessKey']}", tokens[(t, "tenant-admin")], expect=200)
    api.call("DELETE", f"/keys/{k['accessKey']}", tok, expect=404)


def test_buckets_are_listed_by_role_and_never_across_tenants(api, world):
    tenants, tokens = world
    made = {}
    plats = api.call("GET", "/platforms", tokens[(tenants[0], "tenant-user")], expect=200).json()["platforms"]
    assert all("bytes" not in p for p in plats)  # what platforms hold is for provider admins
    held = api.call("GET", "/platforms", tokens[(tenants[0], "provider-admin")], expect=200).json()["platforms"]
    assert all(isinstance(p["bytes"], int) and isinstance(p["buckets"], int) for p in held)
    default = next(p["name"] for p in plats if p["isDefault"])
    for t in tenants:
        for role in ROLES:
            b = f"rb-{uuid.uuid4().hex[:10]}"
            r = api.call("POST", "/buckets", tokens[(t, role)], body={"name": b, "platform": default}, expect=201)
            assert r.json()["tenant"] == t and r.json()["platform"] == default
            made[(t, role)] = b
    for (t, role), tok in tokens.items():
        seen = {x["name"] for x in api.call("GET", "/buckets", tok, expect=200).json()["buckets"]}
        mine = {made[(t, role)]}
        tenant_all = {made[(t, r)] for r in ROLES}
        everyone = set(made.values())
        if role == "tenant-user":
            assert seen & everyone == mine, (t, role, seen & everyone)
        elif role == "tenant-admin":
            assert seen & everyone == tenant_all
        else:
            assert everyone <= seen
            only = {x["name"] for x in api.call("GET", f"/buckets?tenant={t}", tok, expect=200).json()["buckets"]}
            assert only & everyone == tenant_all
        if role != "provider-admin":
            other = tenants[(tenants.index(t) + 1) % 3]
            api.call("GET", f"/buckets?tenant={other}", tok, expect=404)
        # Another tenant's bucket: no usage, no listing, no delete.
        for (t2, r2), b in made.items():
            if t2 == t or role == "provider-admin":
                continue
            api.call("GET", f"/buckets/{b}/usage", tok, expect=403)
            api.call("GET", f"/buckets/{b}/objects", tok, expect=403)
            api.call("DELETE", f"/buckets/{b}", tok, expect=403)
    # Usage: admins only, each its own tenant; provider admins every tenant.
    api.call("GET", "/usage", tokens[(tenants[0], "tenant-user")], expect=403)
    u = api.call("GET", "/usage", tokens[(tenants[0], "tenant-admin")], expect=200).json()["tenants"]
    assert [x["tenant"] for x in u] == [tenants[0]] and u[0]["buckets"] == 3
    u = {x["tenant"] for x in api.call("GET", "/usage", tokens[(tenants[0], "provider-admin")], expect=200).json()["tenants"]}
    assert set(tenants) <= u
    for (t, role), b in made.items():
        api.call("DELETE", f"/buckets/{b}", tokens[(t, role)], expect=200)


def test_the_role_matrix_for_buckets_and_objects(api, world):
    """Every caller (3 tenants × 3 roles) against the buckets a tenant user and a tenant admin of each
    tenant created, with every bucket and object action: allowed exactly for the bucket's creator, its
    tenant's admins and provider admins (SPEC.md §3; no grants here)."""
    tenants, tokens = world
    buckets = {}
    for t in tenants:
        for role in ("tenant-user", "tenant-admin"):
            b = f"rx-{uuid.uuid4().hex[:10]}"
            api.call("POST", "/buckets", tokens[(t, role)], body={"name": b}, expect=201)
            api.call("PUT", f"/buckets/{b}/objects/seed", tokens[(t, role)], data=b"seed", expect=201)
            buckets[(t, role)] = b
    for (t, role), tok in tokens.items():
        for (bt, brole), b in buckets.items():
            allowed = role == "provider-admin" or (t == bt and (role == "tenant-admin" or role == brole))
            where = (t, role, "→", bt, brole)
            want = lambda ok: ok if allowed else 403  # noqa: E731
            assert api.call("GET", f"/buckets/{b}/objects", tok).status_code == want(200), where
            assert api.call("GET", f"/buckets/{b}/usage", tok).status_code == want(200), where
            assert api.call("GET", f"/buckets/{b}/objects/seed", tok).status_code == want(200), where
            assert api.call("PUT", f"/buckets/{b}/objects/by-{role}", tok, data=b"x").status_code == want(201), where
            assert api.call("GET", f"/buckets/{b}/tags", tok).status_code == want(200), where
            assert api.call("PUT", f"/buckets/{b}/tags", tok, body={"tags": {"k": role}}).status_code == want(200), where
            r = api.call("POST", f"/buckets/{b}/share", tok, body={"key": "seed", "expiresIn": 60})
            assert r.status_code in ((201, 409) if allowed else (403,)), where
            r = api.call("POST", f"/buckets/{b}/uploads", tok, body={"key": "mp"})
            assert r.status_code == want(201), where
            if allowed:
                api.call("DELETE", f"/buckets/{b}/uploads/{urllib.parse.quote(r.json()['uploadId'], safe='')}", tok, expect=200)
                api.call("DELETE", f"/buckets/{b}/objects/by-{role}", tok, expect=200)
            else:
                assert api.call("DELETE", f"/buckets/{b}/objects/seed", tok).status_code == 403, where
                assert api.call("DELETE", f"/buckets/{b}", tok).status_code == 403, where
            # Listings never show another tenant's buckets to tenant roles.
        seen = {x["name"] for x in api.call("GET", "/buckets", tok, expect=200).json()["buckets"]}
        visible = {b for (bt, brole), b in buckets.items()
                   if role == "provider-admin" or (bt == t and (role == "tenant-admin" or role == brole))}
        assert seen & set(buckets.values()) == visible, (t, role)
    for (t, role), b in buckets.items():
        api.call("DELETE", f"/buckets/{b}/objects/seed", tokens[(t, role)], expect=200)
        api.call("DELETE", f"/buckets/{b}", tokens[(t, role)], expect=200)


def test_objects_upload_browse_download_share_and_delete(voss, api, world):
    tenants, tokens = world
    t = tenants[2]
    tok = tokens[(t, "tenant-user")]
    b = f"ro-{uuid.uuid4().hex[:10]}"
    api.call("POST", "/buckets", tok, body={"name": b}, expect=201)
    body = os.urandom(300_000)
    keys = ["a/one.bin", "a/two.bin", "b/three.bin", "top.bin", "<img src=x onerror=alert(1)>"]
    for k in keys:
        r = api.call("PUT", f"/buckets/{b}/objects/{urllib.parse.quote(k, safe='')}", tok, data=body, expect=201)
        assert r.json()["etag"] == hashlib.md5(body).hexdigest() and r.json()["key"] == k
    page = api.call("GET", f"/buckets/{b}/objects?delimiter=/", tok, expect=200).json()
    assert page["prefixes"] == ["a/", "b/"] and sorted(o["key"] for o in page["objects"]) == sorted(["top.bin", keys[4]])
    page = api.call("GET", f"/buckets/{b}/objects?prefix=a/&limit=1", tok, expect=200).json()
    assert [o["key"] for o in page["objects"]] == ["a/one.bin"] and page["next"]
    page = api.call("GET", f"/buckets/{b}/objects?prefix=a/&after={urllib.parse.quote(page['next'])}", tok, expect=200).json()
    assert [o["key"] for o in page["objects"]] == ["a/two.bin"] and "next" not in page
    r = api.call("GET", f"/buckets/{b}/objects/{urllib.parse.quote('a/one.bin', safe='')}", tok, expect=200)
    assert r.content == body and "one.bin" in r.headers["Content-Disposition"]
    r = api.call("GET", f"/buckets/{b}/objects/missing", tok, expect=404)
    assert r.json()["error"]["code"] == "NoSuchKey"
    usage = api.call("GET", f"/buckets/{b}/usage", tok, expect=200).json()
    assert usage == {"bucket": b, "objects": 5, "bytes": 5 * len(body)}
    # A share link needs an access key of the caller; then it works without any login, and ends.
    r = api.call("POST", f"/buckets/{b}/share", tok, body={"key": "a/two.bin", "expiresIn": 2})
    if r.status_code == 409:
        assert r.json()["error"]["code"] == "no_access_key"
        api.call("POST", f"/tenants/{t}/users/tenantuser/keys", tok, expect=201)
        r = api.call("POST", f"/buckets/{b}/share", tok, body={"key": "a/two.bin", "expiresIn": 2})
    assert r.status_code == 201, r.text
    link = r.json()["url"]
    assert requests.get(link).content == body
    time.sleep(3)
    assert requests.get(link).status_code == 403
    for bad in ({"key": "a/two.bin", "expiresIn": 0}, {"key": "a/two.bin", "expiresIn": 604801}, {"key": "", "expiresIn": 5}):
        api.call("POST", f"/buckets/{b}/share", tok, body=bad, expect=400)
    api.call("POST", f"/buckets/{b}/share", tok, body={"key": "missing", "expiresIn": 5}, expect=404)
    # Another tenant's user can neither read, write, delete nor share here.
    other = tokens[(tenants[0], "tenant-user")]
    api.call("GET", f"/buckets/{b}/objects/top.bin", other, expect=403)
    api.call("PUT", f"/buckets/{b}/objects/intruder", other, data=b"x", expect=403)
    api.call("DELETE", f"/buckets/{b}/objects/top.bin", other, expect=403)
    api.call("POST", f"/buckets/{b}/share", other, body={"key": "top.bin", "expiresIn": 60}, expect=403)
    for k in keys:
        api.call("DELETE", f"/buckets/{b}/objects/{urllib.parse.quote(k, safe='')}", tok, expect=200)
    api.call("DELETE", f"/buckets/{b}", tok, expect=200)


def test_multipart_uploads_resume_from_the_parts_already_there(api, world):
    tenants, tokens = world
    t = tenants[1]
    tok = tokens[(t, "tenant-user")]
    b = f"rm-{uuid.uuid4().hex[:10]}"
    api.call("POST", "/buckets", tok, body={"name": b}, expect=201)
    one, two = os.urandom(5 << 20), os.urandom(1234)
    up = api.call("POST", f"/buckets/{b}/uploads", tok, body={"key": "big/file.bin"}, expect=201).json()
    base = f"/buckets/{b}/uploads/{urllib.parse.quote(up['uploadId'], safe='')}"
    p1 = api.call("PUT", base + "/parts/1", tok, data=one, expect=200).json()
    assert p1["etag"] == hashlib.md5(one).hexdigest() and p1["size"] == len(one)
    # "After a network error": what is there already.
    have = api.call("GET", base, tok, expect=200).json()
    assert have["key"] == "big/file.bin" and [(p["partNumber"], p["etag"], p["size"]) for p in have["parts"]] == [(1, p1["etag"], len(one))]
    p2 = api.call("PUT", base + "/parts/2", tok, data=two, expect=200).json()
    for bad in ("0", "10001", "x"):
        api.call("PUT", base + f"/parts/{bad}", tok, data=b"x", expect=400)
    # Another tenant's user cannot see, add to or finish it.
    other = tokens[(tenants[0], "tenant-user")]
    api.call("GET", base, other, expect=403)
    api.call("PUT", base + "/parts/3", other, data=b"x", expect=403)
    done = api.call("POST", base + "/complete", tok, body={"parts": [p1, p2]}, expect=201).json()
    assert done["key"] == "big/file.bin" and done["etag"].endswith("-2")
    r = api.call("GET", f"/buckets/{b}/objects/{urllib.parse.quote('big/file.bin', safe='')}", tok, expect=200)
    assert r.content == one + two
    api.call("GET", base, tok, expect=404)
    # Abandoning one removes it; an upload id of another bucket is not found here.
    up2 = api.call("POST", f"/buckets/{b}/uploads", tok, body={"key": "gone.bin"}, expect=201).json()
    base2 = f"/buckets/{b}/uploads/{urllib.parse.quote(up2['uploadId'], safe='')}"
    api.call("PUT", base2 + "/parts/1", tok, data=b"abc", expect=200)
    api.call("DELETE", base2, tok, expect=200)
    api.call("GET", base2, tok, expect=404)
    api.call("POST", f"/buckets/{b}/uploads", tok, body={"key": ""}, expect=400)
    api.call("DELETE", f"/buckets/{b}/objects/{urllib.parse.quote('big/file.bin', safe='')}", tok, expect=200)
    api.call("DELETE", f"/buckets/{b}", tok, expect=200)


def test_quotas_are_set_by_provider_admins_and_hold_on_every_write(voss, api, world):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
    tenants, tokens = world
    t, other = tenants[2], tenants[0]
    prov, adm, usr = tokens[(t, "provider-admin")], tokens[(t, "tenant-admin")], tokens[(t, "tenant-user")]
    b = f"rq-{uuid.uuid4().hex[:10]}"
    api.call("POST", "/buckets", usr, body={"name": b}, expect=201)
    assert api.call("GET", f"/tenants/{t}/quota", adm, expect=200).json() == {"tenant": t, "used": 0}
    api.call("GET", f"/tenants/{t}/quota", usr, expect=403)
    api.call("GET", f"/tenants/{t}/quota", tokens[(other, "tenant-admin")], expect=404)
    api.call("PUT", f"/tenants/{t}/quota", adm, body={"bytes": 1 << 40}, expect=403)
    api.call("PUT", f"/tenants/{t}/quota", prov, body={"bytes": -1}, expect=400)
    q = api.call("PUT", f"/tenants/{t}/quota", prov, body={"bytes": 1 << 20}, expect=200).json()
    assert q == {"tenant": t, "bytes": 1 << 20, "used": 0}
    try:
        api.call("PUT", f"/buckets/{b}/objects/a", usr, data=os.urandom(600 << 10), expect=201)
        r = api.call("PUT", f"/buckets/{b}/objects/b", usr, data=os.urandom(600 << 10), expect=403)
        assert r.json()["error"]["code"] == "QuotaExceeded"
        # The same through S3 with the tenant's own key, and a copy, and a multipart part.
        key = api.call("POST", f"/tenants/{t}/users/tenantuser/keys", usr, expect=201).json()
        s3 = boto3.client("s3", endpoint_url=voss.http, aws_access_key_id=key["accessKey"], aws_secret_access_key=key["secret"],
                          region_name="us-east-1", config=Config(signature_version="s3v4"))
        with pytest.raises(ClientError) as e:
            s3.put_object(Bucket=b, Key="c", Body=os.urandom(600 << 10))
        assert e.value.response["Error"]["Code"] == "QuotaExceeded" and e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        s3.put_object(Bucket=b, Key="small", Body=b"x" * 1000)  # still fits
        api.call("PUT", f"/buckets/{b}/objects/fill", usr, data=b"y" * ((1 << 20) - (600 << 10) - 1000), expect=201)
        with pytest.raises(ClientError) as e:
            s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "small"})
        assert e.value.response["Error"]["Code"] == "QuotaExceeded"
        up = api.call("POST", f"/buckets/{b}/uploads", usr, body={"key": "mp"}, expect=201).json()
        r = api.call("PUT", f"/buckets/{b}/uploads/{urllib.parse.quote(up['uploadId'], safe='')}/parts/1", usr, data=b"z" * 10, expect=403)
        assert r.json()["error"]["code"] == "QuotaExceeded"
        assert api.call("GET", f"/tenants/{t}/quota", adm, expect=200).json()["used"] == 1 << 20
        # Deleting and reading are never refused.
        api.call("DELETE", f"/buckets/{b}/objects/a", usr, expect=200)
        api.call("GET", f"/buckets/{b}/objects/small", usr, expect=200)
        api.call("DELETE", f"/buckets/{b}/uploads/{urllib.parse.quote(up['uploadId'], safe='')}", usr, expect=200)
    finally:
        api.call("PUT", f"/tenants/{t}/quota", prov, body={"bytes": None}, expect=200)
    api.call("PUT", f"/buckets/{b}/objects/after", usr, data=os.urandom(700 << 10), expect=201)
    for k in ("small", "fill", "after"):
        api.call("DELETE", f"/buckets/{b}/objects/{k}", usr, expect=200)
    api.call("DELETE", f"/buckets/{b}", usr, expect=200)


def test_bucket_tags(api, world):
    tenants, tokens = world
    t = tenants[2]
    tok = tokens[(t, "tenant-user")]
    b = f"rt-{uuid.uuid4().hex[:10]}"
    api.call("POST", "/buckets", tok, body={"name": b}, expect=201)
    assert api.call("GET", f"/buckets/{b}/tags", tok, expect=200).json() == {"tags": {}}
    api.call("PUT", f"/buckets/{b}/tags", tok, body={"tags": {"cost-center": "42", "owner": "<b>ann</b>"}}, expect=200)
    assert api.call("GET", f"/buckets/{b}/tags", tok, expect=200).json()["tags"] == {"cost-center": "42", "owner": "<b>ann</b>"}
    r = api.call("PUT", f"/buckets/{b}/tags", tok, body={"tags": {f"k{i}": "v" for i in range(51)}}, expect=400)
    assert r.json()["error"]["code"] in ("BadRequest", "InvalidTag")
    api.call("GET", f"/buckets/{b}/tags", tokens[(tenants[0], "tenant-admin")], expect=403)
    api.call("PUT", f"/buckets/{b}/tags", tokens[(tenants[0], "tenant-user")], body={"tags": {"x": "y"}}, expect=403)
    api.call("PUT", f"/buckets/{b}/tags", tok, body={"tags": {}}, expect=200)
    assert api.call("GET", f"/buckets/{b}/tags", tok, expect=200).json() == {"tags": {}}
    api.call("DELETE", f"/buckets/{b}", tok, expect=200)


def test_cors_for_the_api_only_for_listed_origins(voss, api, world):
    tenants, tokens = world
    tok = tokens[(tenants[0], "tenant-user")]
    pre = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "authorization,content-type"}
    r = requests.options(api.base + "/api/v1/buckets", headers=pre)
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    voss.ose("args", "set", "--k", "s3.api_cors_origins", "--v", "https://app.example.com, https://other.example.com")
    try:
        deadline = time.time() + 15
        while time.time() < deadline:
            r = requests.options(api.base + "/api/v1/buckets", headers=pre)
            if r.status_code == 204:
                break
            time.sleep(0.3)
        assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        assert "PUT" in r.headers["Access-Control-Allow-Methods"] and "Authorization" in r.headers["Access-Control-Allow-Headers"]
        r = requests.get(api.base + "/api/v1/me", headers={"Origin": "https://app.example.com", "Authorization": "Bearer " + tok})
        assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
        r = requests.get(api.base + "/api/v1/me", headers={"Origin": "https://evil.example.com", "Authorization": "Bearer " + tok})
        assert "Access-Control-Allow-Origin" not in r.headers
        r = requests.options(api.base + "/api/v1/buckets", headers={**pre, "Origin": "https://evil.example.com"})
        assert r.status_code == 403
    finally:
        voss.ose("args", "del", "--k", "s3.api_cors_origins")


def test_passwords_change_and_end_sessions(api, world):
    tenants, tokens = world
    t = tenants[1]
    tok = api.call("POST", "/login", body={"tenant": t, "user": "tenantadmin", "password": PASSWORD}, expect=200).json()["token"]
    api.call("PUT", "/me/password", tok, body={"password": "N3w!password", "current": "wrong"}, expect=403)
    r = api.call("PUT", "/me/password", tok, body={"password": "weak", "current": PASSWORD}, expect=400)
    assert r.json()["error"]["code"] == "validation"
    api.call("PUT", "/me/password", tok, body={"password": "N3w!password", "current": PASSWORD}, expect=200)
    api.call("GET", "/me", tok, expect=401)  # a new password ends the sessions
    tok = api.call("POST", "/login", body={"tenant": t, "user": "tenantadmin", "password": "N3w!password"}, expect=200).json()["token"]
    # An admin resets a user's password; the user's sessions end.
    user_tok = api.call("POST", "/login", body={"tenant": t, "user": "tenantuser", "password": PASSWORD}, expect=200).json()["token"]
    api.call("PUT", f"/tenants/{t}/users/tenantuser/password", tok, body={"password": "R3set!pass"}, expect=200)
    api.call("GET", "/me", user_tok, expect=401)
    api.call("PUT", f"/tenants/{t}/users/tenantuser/password", tokens[(t, "tenant-user")], body={"password": "R3set!pass"}, expect=401)


def test_failed_logins_are_slowed_down_per_user_and_per_address(api, world):
    if os.environ.get("VOSS_TEST_DB") == "postgres":
        pytest.skip("the throttle is in the gateway's memory, not the store: the SQLite pass covers it")
    tenants, _ = world
    t = tenants[0]
    v = {"tenant": t, "user": "tenantuser", "password": "Wrong!pass1"}
    for _ in range(5):
        r = api.call("POST", "/login", body=v, expect=401)
        assert r.json()["error"]["code"] == "bad_login"
    r = api.call("POST", "/login", body=v, expect=429)
    assert int(r.headers["Retry-After"]) >= 1 and r.json()["error"]["code"] == "too_many_attempts"
    # Even the right password waits now (the guess is not checked).
    api.call("POST", "/login", body={**v, "password": PASSWORD}, expect=429)
    # An unknown user fails the same way, without saying that the user does not exist.
    r = api.call("POST", "/login", body={"tenant": t, "user": "ghost", "password": "x"}, expect=401)
    assert r.json()["error"]["code"] == "bad_login"
    # Guessing across many user names from one address: after 20 failures the address waits too.
    for i in range(30):
        r = api.call("POST", "/login", body={"tenant": t, "user": f"ghost{i}", "password": "x"})
        if r.status_code == 429:
            break
        assert r.status_code == 401
    assert r.status_code == 429 and 10 <= i <= 20, i
    api.call("POST", "/login", body={"tenant": tenants[1], "user": "provideradmin", "password": PASSWORD}, expect=429)
    time.sleep(int(r.headers["Retry-After"]) + 1.2)
    api.call("POST", "/login", body={"tenant": tenants[1], "user": "provideradmin", "password": PASSWORD}, expect=200)


def test_a_director_login_without_a_working_director_is_refused_clearly(api):
    # test_director.py covers the director; here only that the route answers in its documented shape
    # (no director configured: 409; the one another test configured is gone: 503; a token it refused: 401).
    r = api.call("POST", "/login/director", body={"token": "t" * 32})
    assert r.status_code in (409, 503, 401) and r.json()["error"]["code"] in ("director_disabled", "unavailable", "bad_login")
    api.call("POST", "/login/director", body={"token": "short"}, expect=401 if r.status_code != 409 else 409)


def test_bad_input_gets_clear_errors(api, world):
    tenants, tokens = world
    tok = tokens[(tenants[0], "provider-admin")]
    r = requests.post(api.base + "/api/v1/tenants", headers={"Authorization": "Bearer " + tok}, data=b"{not json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_request"
    r = requests.post(api.base + "/api/v1/tenants", headers={"Authorization": "Bearer " + tok}, data=b"x" * 200_000)
    assert r.status_code == 413
    r = requests.get(api.base + "/api/v1/nothing-here", headers={"Authorization": "Bearer " + tok})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = requests.patch(api.base + "/api/v1/me", headers={"Authorization": "Bearer " + tok})
    assert r.status_code == 405
    api.call("POST", "/tenants", tok, body={"name": "<img src=x onerror=alert(1)>"}, expect=400)
    r = api.call("POST", "/login", body={"tenant": "t" * 5000, "user": "u", "password": "p"})
    assert r.status_code in (401, 429)


def test_the_portals_strings_come_from_the_i18n_service_with_english_behind(api):
    zh = api.call("GET", "/i18n/zh-Hans", expect=200).json()
    en = api.call("GET", "/i18n/en", expect=200).json()
    assert zh["locale"] == "zh-Hans" and zh["messages"]["portal.nav.buckets"] == "存储桶"
    assert en["messages"]["portal.nav.buckets"] == "Buckets" and {"en", "zh-Hans"} <= set(en["languages"])
    # The API's own error messages come along, so the portal shows them translated too.
    assert zh["messages"]["rest.bad_login"] != en["messages"]["rest.bad_login"]
    assert set(en["messages"]) <= set(zh["messages"])
    fr = api.call("GET", "/i18n/fr", expect=200).json()
    assert fr["messages"]["portal.nav.buckets"] == "Buckets"
    api.call("GET", "/i18n/%3Cscript%3E", expect=400)


def test_the_portals_paths_are_reserved_bucket_names(voss, world):
    tenants, tokens = world
    tok = tokens[(tenants[0], "tenant-admin")]
    for name in ("portal", "api"):
        r = requests.post(voss.http + "/api/v1/buckets", json={"name": name}, headers={"Authorization": "Bearer " + tok})
        assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidBucketName", r.text
    r = requests.get(voss.http + "/portal/")
    assert r.status_code == 200 and "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert requests.get(voss.http + "/portal/..%2Fapp.js").status_code == 404
    assert requests.get(voss.http + "/portal/app.js").headers["Content-Type"].startswith("text/javascript")


def _raw(base):
    import socket
    host, port = base.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=30)
    return s


def _read_responses(s, n):
    """n HTTP responses off a socket (Content-Length framed)."""
    buf, out = b"", []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return out
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(rest) < length:
            rest += s.recv(65536)
        out.append((int(head.split(b" ")[1]), rest[:length]))
        buf = rest[length:]
    return out


def test_requests_split_into_single_bytes_or_merged_into_one_write(api, world):
    tenants, tokens = world
    body = json.dumps({"tenant": tenants[2], "user": "provideradmin", "password": PASSWORD}).encode()
    req = (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
           + str(len(body)).encode() + b"\r\n\r\n" + body)
    s = _raw(api.base)
    for i in range(len(req)):
        s.send(req[i:i + 1])
    [(status, payload)] = _read_responses(s, 1)
    assert status == 200 and json.loads(payload)["me"]["role"] == "provider-admin"
    tok = json.loads(payload)["token"].encode()
    # Two requests in one write: both answered, in order, on the same connection.
    s.send(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + b"\r\n\r\n"
           b"GET /api/v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + b"\r\n\r\n")
    (s1, p1), (s2, p2) = _read_responses(s, 2)
    assert (s1, json.loads(p1)["name"]) == (200, "provideradmin") and s2 == 200 and "tenants" in json.loads(p2)
    s.close()
    # Absurd numbers: a length beyond 64 bits and a negative one are not HTTP (400); a huge but valid one
    # is refused at once (413), without waiting for bytes that will not come.
    for cl, want in ((b"18446744073709551616", 400), (b"-1", 400), (b"9223372036854775807", 413), (b"70000", 413)):
        s = _raw(api.base)
        t0 = time.time()
        s.send(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: " + cl + b"\r\n\r\n{}")
        got = _read_responses(s, 1)
        assert got and got[0][0] == want and time.time() - t0 < 5, (cl, got)
        s.close()
    assert requests.get(api.base + "/api/v1/openapi.json").status_code == 200


def test_tokens_never_reach_the_logs(voss, world):
    _, tokens = world
    logs = ""
    for f in glob.glob(os.path.join(voss.k.dir, "**", "*"), recursive=True):
        if os.path.isfile(f) and (f.endswith(".log") or "stderr" in f or "stdout" in f):
            logs += open(f, errors="replace").read()
    assert logs, "no logs found"
    for tok in tokens.values():
        assert tok not in logs


def test_every_documented_route_was_exercised(api):
    """Last in this module: the OpenAPI document and the routes agree both ways."""
    documented = {(m.upper(), t) for t, ops in api.doc["paths"].items() for m in ops}
    CALLED.add(("GET", "/api/v1/openapi.json"))
    assert documented - CALLED == set(), f"documented but never called: {sorted(documented - CALLED)}"
    assert CALLED - documented == set()
