"""The cloud director: `ose director set|show` (checked before anything is saved), director users
logging in to VOSS with their director session token (organization → tenant, rights → role), and
`ose ui install|uninstall|show` registering the portal plugin. No director can run here: these run
against a server written from VMware's published Cloud Director API reference (Tests/fakes/director.py)."""
import io
import json
import os
import sys
import zipfile

import pytest
import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fakes.director import Director  # noqa: E402

SYS_PASSWORD = "Sys!admin9"


@pytest.fixture(scope="module")
def director():
    d = Director()
    d.add_user("administrator", "System", SYS_PASSWORD, "System Administrator")
    d.add_user("olga", "acmeorg", "Olga!pass1", "Organization Administrator")
    d.add_user("victor", "acmeorg", "Victor!pass1", "vApp User")
    d.add_user("carl", "acmeorg", "Carl!pass1", "Console Access Only")
    d.add_user("pat", "System", "Pat!pass12", "System Administrator")
    yield d
    d.stop()


def out(r):
    return r.stdout + r.stderr


def test_director_set_checks_everything_before_saving(voss, director):
    def bad(*args):
        r = voss.ose("director", "set", *args, check=False)
        assert r.returncode != 0, out(r)
        shown = json.loads(voss.ose("--json", "director", "show").stdout)
        assert not shown["configured"], shown
        return out(r)

    assert "@system" in bad("--url", director.url, "--user", "administrator", "--secret", SYS_PASSWORD)
    assert "upper-case" in bad("--url", director.url, "--user", "administrator@system", "--secret", "weak")
    assert "refused" in bad("--url", director.url, "--user", "administrator@system", "--secret", "Wrong!pass9")
    assert "did not answer" in bad("--url", "http://127.0.0.1:9", "--user", "administrator@system", "--secret", SYS_PASSWORD)
    assert "not" in bad("--url", "ftp://x", "--user", "administrator@system", "--secret", SYS_PASSWORD).lower()
    old = Director(versions=("27.0", "31.0"), deprecated=())
    try:
        old.add_user("administrator", "System", SYS_PASSWORD, "System Administrator")
        assert "33.0" in bad("--url", old.url, "--user", "administrator@system", "--secret", SYS_PASSWORD)
    finally:
        old.stop()
    # A director user cannot log in to VOSS while no director is configured.
    r = requests.post(voss.http + "/api/v1/login/director", json={"token": director.login_token("olga", "acmeorg")})
    assert r.status_code == 409 and r.json()["error"]["code"] == "director_disabled"


def test_director_set_saves_and_shows(voss, director):
    r = voss.ose("director", "set", "--url", director.url, "--user", "administrator@system", "--secret", SYS_PASSWORD)
    assert "API version: 37.2" in r.stdout, r.stdout
    shown = voss.ose("director", "show").stdout
    assert director.url in shown and "administrator@system" in shown and SYS_PASSWORD not in shown
    assert SYS_PASSWORD in voss.ose("director", "show", "--with-secret").stdout
    j = json.loads(voss.ose("--json", "director", "show").stdout)
    assert j["configured"] and j["apiVersion"] == "37.2" and "secret" not in j
    # The login it checked was a provider login with the version VOSS picked.
    assert ("POST", "/cloudapi/1.0.0/sessions/provider", {}) in director.requests


def login(voss, director, user, org):
    return requests.post(voss.http + "/api/v1/login/director", json={"token": director.login_token(user, org)})


def test_director_users_get_roles_from_their_rights(voss, director):
    voss.ose("director", "set", "--url", director.url, "--user", "administrator@system", "--secret", SYS_PASSWORD)
    import time
    deadline = time.time() + 15
    while True:  # the gateway gets the new setting by reload
        r = login(voss, director, "olga", "acmeorg")
        if r.status_code != 409 or time.time() > deadline:
            break
        time.sleep(0.3)
    assert r.status_code == 200, r.text
    assert r.json()["me"] == {**r.json()["me"], "tenant": "acmeorg", "name": "olga", "role": "tenant-admin"}
    olga = r.json()["token"]
    r = login(voss, director, "victor", "acmeorg")
    assert r.status_code == 200 and r.json()["me"]["role"] == "tenant-user"
    victor = r.json()["token"]
    r = login(voss, director, "pat", "System")
    assert r.status_code == 200 and r.json()["me"]["role"] == "provider-admin"
    pat = r.json()["token"]
    # No "UI Plugins: View": no VOSS at all.
    r = login(voss, director, "carl", "acmeorg")
    assert r.status_code == 403 and r.json()["error"]["code"] == "no_access"
    # A token the director does not know.
    r = requests.post(voss.http + "/api/v1/login/director", json={"token": "not-a-director-token"})
    assert r.status_code == 401
    # The sessions act with those roles: the tenant admin sees its users, the user does not.
    h = lambda t: {"Authorization": "Bearer " + t}  # noqa: E731
    assert requests.get(voss.http + "/api/v1/tenants/acmeorg/users", headers=h(olga)).status_code == 200
    assert requests.get(voss.http + "/api/v1/tenants/acmeorg/users", headers=h(victor)).status_code == 403
    assert {t["name"] for t in requests.get(voss.http + "/api/v1/tenants", headers=h(pat)).json()["tenants"]} >= {"acmeorg", "System"}
    b = "dir-" + os.urandom(4).hex()
    assert requests.post(voss.http + "/api/v1/buckets", json={"name": b}, headers=h(victor)).status_code == 201
    assert b in {x["name"] for x in requests.get(voss.http + "/api/v1/buckets", headers=h(olga)).json()["buckets"]}
    # A role changed in the director changes the VOSS role at the next login.
    director.users[("victor", "acmeorg")] = ("Victor!pass1", "Organization Administrator", "victor", "acmeorg")
    r = login(voss, director, "victor", "acmeorg")
    assert r.json()["me"]["role"] == "tenant-admin"
    assert requests.delete(voss.http + f"/api/v1/buckets/{b}", headers=h(r.json()["token"])).status_code == 200
    # VOSS's provider session expired in the director: it logs in again by itself.
    director.tokens = {t: w for t, w in director.tokens.items() if w[1].lower() != "system" or w[0] == "pat"}
    assert login(voss, director, "olga", "acmeorg").status_code == 200


def test_ui_install_registers_uploads_publishes_and_replaces(voss, director):
    voss.ose("director", "set", "--url", director.url, "--user", "administrator@system", "--secret", SYS_PASSWORD)
    assert "not installed" in voss.ose("ui", "show").stdout
    r = voss.ose("ui", "install", "--ose-url", "https://s3.example.com", check=False)
    assert r.returncode == 0, out(r)
    info = json.loads(voss.ose("--json", "ui", "show").stdout)
    assert info["installed"] and info["status"] == "ready" and info["oseURL"] == "https://s3.example.com"
    pid = info["id"]
    assert pid in director.published
    z = zipfile.ZipFile(io.BytesIO(director.files[pid]))
    assert z.testzip() is None and set(z.namelist()) == {"manifest.json", "bundle.js"}
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["name"] == "VOSS Object Storage" and manifest["bundle"] == "bundle.js" and "tenant" in manifest["scope"]
    assert "https://s3.example.com/portal/" in z.read("bundle.js").decode()
    # Installing again replaces it: one VOSS plugin in the director, the new one.
    voss.ose("ui", "install", "--ose-url", "https://voss.example.com")
    voss_plugins = [p for p in director.plugins.values() if p["pluginName"] == "VOSS Object Storage"]
    assert len(voss_plugins) == 1 and voss_plugins[0]["id"] != pid and voss_plugins[0]["link"] == "https://voss.example.com"
    # Removed in the director behind VOSS's back: show says so.
    director.plugins.clear()
    director.files.clear()
    assert "missing" in voss.ose("ui", "show").stdout
    voss.ose("ui", "install", "--ose-url", "https://voss.example.com")
    r = voss.ose("ui", "uninstall")
    assert "not installed" in r.stdout and not director.plugins
    # Bad input: no URL, not a URL.
    assert voss.ose("ui", "install", check=False).returncode != 0
    assert voss.ose("ui", "install", "--ose-url", "voss.example.com", check=False).returncode != 0


def test_a_failed_upload_leaves_no_half_plugin(voss, director):
    voss.ose("director", "set", "--url", director.url, "--user", "administrator@system", "--secret", SYS_PASSWORD)
    before = dict(director.plugins)
    for k in list(director.fail):
        director.fail.pop(k)
    # The transfer service fails: the registration is taken back.
    orig = director.handle

    def failing(h, path, q, body):
        if path.startswith("/transfer/"):
            return h._send(500, b"transfer failed", "text/plain")
        return orig(h, path, q, body)

    director.handle = failing
    try:
        r = voss.ose("ui", "install", "--ose-url", "https://s3.example.com", check=False)
    finally:
        director.handle = orig
    assert r.returncode != 0 and "upload" in out(r).lower()
    assert director.plugins == before


def test_the_plugin_shows_the_portal_signed_in_with_the_directors_token(voss, director):
    """In Chromium: a page standing in for the director loads the uploaded plugin bundle, which frames
    the portal (from another origin) and hands it the director token; the portal signs in by itself."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    from test_portal import browser

    voss.ose("director", "set", "--url", director.url, "--user", "administrator@system", "--secret", SYS_PASSWORD)
    voss.ose("ui", "install", "--ose-url", voss.http)
    pid = json.loads(voss.ose("--json", "ui", "show").stdout)["id"]
    # The portal may be framed by the director (and only by it and itself).
    csp = requests.get(voss.http + "/portal/").headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {director.url}" in csp
    token = director.login_token("olga", "acmeorg")
    d = browser()
    try:
        import urllib.parse
        d.get(f"{director.url}/ui-host?plugin={urllib.parse.quote(pid)}&token={urllib.parse.quote(token)}")
        frame = WebDriverWait(d, 20).until(EC.presence_of_element_located((By.TAG_NAME, "iframe")))
        d.switch_to.frame(frame)
        WebDriverWait(d, 20).until(EC.presence_of_element_located((By.ID, "bucket-form")))
        assert "olga" in d.find_element(By.ID, "who").text
        assert d.find_elements(By.ID, "nav-users")  # a tenant admin
    finally:
        d.quit()
    voss.ose("ui", "uninstall")
