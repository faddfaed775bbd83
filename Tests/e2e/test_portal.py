"""The web portal in a real Chromium (Debian's, driven by Selenium; nothing is downloaded): log in,
create a bucket, upload 20 MiB with the progress bar moving, download it byte-exact, a share link
in a fresh browser that stops working after its expiry, Chinese, names shown as text, a tenant user
kept out of another tenant's bucket and the admin pages, an expired session back to the login page.

VOSS_SCREENSHOTS=DIR saves the main pages there (docs/screenshots is made that way)."""
import hashlib
import os
import shutil
import time
import uuid

import pytest
import requests

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException, TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

PASSWORD = "Portal!pass1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")



def test_the_browser_is_there():
    assert CHROMIUM and DRIVER, "chromium and chromedriver are needed (scripts/deps.sh test installs them)"


def browser(download_dir=None):
    o = webdriver.ChromeOptions()
    o.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860", "--lang=en-US",
              "--disable-features=Translate", "--no-first-run"):
        o.add_argument(a)
    d = webdriver.Chrome(service=Service(DRIVER), options=o)
    if download_dir:
        d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
    return d


def shot(d, name):
    out = os.environ.get("VOSS_SCREENSHOTS")
    if out:
        os.makedirs(out, exist_ok=True)
        time.sleep(0.3)
        d.save_screenshot(os.path.join(out, name + ".png"))


@pytest.fixture(scope="module")
def people(voss):
    run = uuid.uuid4().hex[:6]
    a, b = f"portal{run}a", f"portal{run}b"
    for t in (a, b):
        voss.ose("tenant", "create", "--name", t)
        voss.ose("user", "create", "--tenant", t, "--name", "ann", "--role", "tenant-user")
        voss.ose("user", "passwd", "--tenant", t, "--name", "ann", "--secret", PASSWORD)
    voss.ose("user", "create", "--tenant", a, "--name", "root", "--role", "provider-admin")
    voss.ose("user", "passwd", "--tenant", a, "--name", "root", "--secret", PASSWORD)
    # Tenant b's bucket, which tenant a's user must never see.
    tok = requests.post(voss.http + "/api/v1/login", json={"tenant": b, "user": "ann", "password": PASSWORD}).json()["token"]
    other = f"pb-{run}-other"
    r = requests.post(voss.http + "/api/v1/buckets", json={"name": other}, headers={"Authorization": "Bearer " + tok})
    assert r.status_code == 201, r.text
    return a, b, other


@pytest.fixture
def driver(tmp_path):
    d = browser(str(tmp_path))
    d.download_dir = str(tmp_path)
    yield d
    d.quit()


def wait(d, cond, secs=20):
    # The portal redraws whole pages: an element found a moment ago may be gone; look again.
    return WebDriverWait(d, secs, ignored_exceptions=(StaleElementReferenceException,)).until(cond)


def login(d, base, tenant, user, password):
    d.get(base + "/portal/")
    wait(d, EC.presence_of_element_located((By.ID, "login")))
    for i, v in (("tenant", tenant), ("user", user), ("password", password)):
        f = d.find_element(By.ID, i)
        f.clear()
        f.send_keys(v)
    d.find_element(By.ID, "login-button").click()


def no_alert(d):
    try:
        d.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def test_a_tenant_user_works_with_buckets_and_objects_in_the_browser(voss, people, driver, tmp_path):
    a, _, other = people
    d, base = driver, voss.http
    # A wrong password: a clear message, still on the login page.
    login(d, base, a, "ann", "Wrong!pass1")
    wait(d, lambda d: d.find_element(By.ID, "login-error").text)
    assert "password" in d.find_element(By.ID, "login-error").text.lower()
    shot(d, "login")
    login(d, base, a, "ann", PASSWORD)
    wait(d, EC.presence_of_element_located((By.ID, "bucket-form")))
    # No admin pages for a tenant user, and nothing of the other tenant.
    assert not d.find_elements(By.ID, "nav-users") and not d.find_elements(By.ID, "nav-usage") and not d.find_elements(By.ID, "nav-tenants")
    assert other not in d.find_element(By.ID, "main").text

    bucket = f"pa-{uuid.uuid4().hex[:10]}"
    d.find_element(By.ID, "bucket-name").send_keys(bucket)
    d.find_element(By.CSS_SELECTOR, "#bucket-form button").click()
    link = wait(d, EC.element_to_be_clickable((By.XPATH, f"//tr[@data-bucket='{bucket}']//a")))
    shot(d, "buckets")
    link.click()
    wait(d, EC.presence_of_element_located((By.ID, "upload-form")))

    # 20 MiB with the progress bar moving (every percentage the page shows is recorded).
    big = tmp_path / "big.bin"
    data = os.urandom(20 << 20)
    big.write_bytes(data)
    d.execute_script("""
        window.seen = [];
        const s = document.getElementById('upload-status');
        new MutationObserver(() => { if (s.dataset.percent) window.seen.push(Number(s.dataset.percent)); })
          .observe(s, {attributes: true, childList: true, characterData: true, subtree: true});""")
    d.find_element(By.ID, "upload-file").send_keys(str(big))
    d.find_element(By.CSS_SELECTOR, "#upload-form button").click()
    wait(d, EC.presence_of_element_located((By.XPATH, "//tr[@data-key='big.bin']")), 120)
    seen = d.execute_script("return window.seen")
    print("upload progress seen:", seen)
    assert seen and seen[-1] == 100 and any(0 < p < 100 for p in seen), seen
    assert "20.0 MiB" in d.find_element(By.ID, "bucket-usage").text

    # Download: the file Chromium saves is byte-exact.
    d.find_element(By.XPATH, "//tr[@data-key='big.bin']//button[1]").click()
    target = os.path.join(d.download_dir, "big.bin")
    wait(d, lambda _: os.path.exists(target) and os.path.getsize(target) == len(data), 60)
    with open(target, "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest()

    # A name made to look like HTML is shown as text, never run.
    evil = tmp_path / "<img src=x onerror=alert(1)>.txt"
    evil.write_bytes(b"hello portal")
    d.find_element(By.ID, "upload-file").send_keys(str(evil))
    d.find_element(By.CSS_SELECTOR, "#upload-form button").click()
    cell = wait(d, EC.presence_of_element_located((By.XPATH, "//tr[@data-key='<img src=x onerror=alert(1)>.txt']/td[1]")))
    assert cell.text == "<img src=x onerror=alert(1)>.txt"
    assert not d.find_elements(By.CSS_SELECTOR, "#objects img") and no_alert(d)
    shot(d, "objects")

    # Tags of the bucket: add two, save, and they are there when the page is drawn again.
    d.find_element(By.ID, "tag-add").click()
    d.find_element(By.ID, "tag-add").click()
    keys, values = d.find_elements(By.CSS_SELECTOR, ".tag-key"), d.find_elements(By.CSS_SELECTOR, ".tag-value")
    keys[0].send_keys("team")
    values[0].send_keys("storage")
    keys[1].send_keys("cost")
    values[1].send_keys("42")
    d.find_element(By.CSS_SELECTOR, "#tags-form button[type=submit]").click()
    wait(d, lambda d: "saved" in d.find_element(By.ID, "toast").text.lower())
    d.find_element(By.CSS_SELECTOR, ".crumbs a").click()
    wait(d, lambda d: [e.get_attribute("value") for e in d.find_elements(By.CSS_SELECTOR, ".tag-key")] == ["cost", "team"])

    # A share link needs an access key: make one (its secret is shown once), then share.
    d.find_element(By.ID, "nav-keys").click()
    wait(d, EC.element_to_be_clickable((By.ID, "key-create"))).click()
    secret = wait(d, EC.presence_of_element_located((By.ID, "new-secret")))
    assert len(secret.text) == 40
    shot(d, "keys")
    d.find_element(By.ID, "nav-buckets").click()
    wait(d, EC.element_to_be_clickable((By.XPATH, f"//tr[@data-bucket='{bucket}']//a"))).click()
    wait(d, EC.element_to_be_clickable((By.XPATH, "//tr[@data-key='<img src=x onerror=alert(1)>.txt']//button[2]"))).click()
    secs = wait(d, EC.presence_of_element_located((By.ID, "share-seconds")))
    secs.clear()
    secs.send_keys("4")
    d.find_element(By.CSS_SELECTOR, "#share-box button").click()
    url = wait(d, lambda d: d.find_element(By.ID, "share-link").get_attribute("value"))
    made = time.time()
    fresh = browser()
    try:
        fresh.get(url)
        assert "hello portal" in fresh.find_element(By.TAG_NAME, "body").text
        time.sleep(max(0, made + 5.5 - time.time()))
        fresh.get(url)
        assert "hello portal" not in fresh.page_source and "AccessDenied" in fresh.page_source
    finally:
        fresh.quit()

    # Chinese: the page is translated; the user's choice survives a reload.
    Select(d.find_element(By.ID, "lang")).select_by_value("zh-Hans")
    wait(d, lambda d: d.find_element(By.ID, "nav-buckets").text == "存储桶")
    assert d.find_element(By.ID, "logout").text == "退出"
    shot(d, "buckets-zh")
    d.refresh()
    wait(d, lambda d: d.find_element(By.ID, "nav-buckets").text == "存储桶")
    Select(d.find_element(By.ID, "lang")).select_by_value("en")
    wait(d, lambda d: d.find_element(By.ID, "nav-buckets").text == "Buckets")

    # Another tenant's bucket, asked for by name: refused, and nothing of it shown.
    r = d.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/api/v1/buckets/' + arguments[0] + '/objects', {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('voss.token')}})
          .then(r => done(r.status));""", other)
    assert r == 403

    # An expired or revoked session sends the browser back to the login page.
    d.execute_script("sessionStorage.setItem('voss.token', 'x'.repeat(43))")
    d.find_element(By.ID, "nav-keys").click()
    wait(d, EC.presence_of_element_located((By.ID, "login")))
    assert d.find_element(By.ID, "login-error").text
    # Clean up.
    requests.delete(base + f"/api/v1/buckets/{bucket}")


def test_a_provider_admin_sees_tenants_users_and_usage(voss, people, driver):
    a, b, other = people
    d = driver
    login(d, voss.http, a, "root", PASSWORD)
    wait(d, EC.presence_of_element_located((By.ID, "bucket-form")))
    # Every tenant's buckets, with their tenant.
    wait(d, EC.presence_of_element_located((By.XPATH, f"//tr[@data-bucket='{other}']")))
    d.find_element(By.ID, "nav-usage").click()
    wait(d, EC.presence_of_element_located((By.ID, "usage")))
    assert a in d.find_element(By.ID, "usage").text and b in d.find_element(By.ID, "usage").text
    assert d.find_elements(By.CSS_SELECTOR, "#usage .bar")
    d.find_element(By.ID, "nav-platforms").click()
    wait(d, EC.presence_of_element_located((By.ID, "platforms")))
    assert "local" in d.find_element(By.ID, "platforms").text and d.find_elements(By.CSS_SELECTOR, "#platforms .bar")
    shot(d, "platforms")
    d.find_element(By.ID, "nav-tenants").click()
    wait(d, EC.presence_of_element_located((By.ID, "tenants")))
    # A quota for tenant b, shown on the usage page.
    row = d.find_element(By.XPATH, f"//tr[@data-tenant='{b}']")
    row.find_element(By.CSS_SELECTOR, ".quota-gib").send_keys("2")
    row.find_element(By.CSS_SELECTOR, "form button").click()
    wait(d, lambda d: "saved" in d.find_element(By.ID, "toast").text.lower())
    d.find_element(By.ID, "nav-usage").click()
    wait(d, lambda d: "2.0 GiB" in d.find_element(By.ID, "usage").text)
    shot(d, "usage")
    d.find_element(By.ID, "nav-tenants").click()
    wait(d, EC.presence_of_element_located((By.ID, "tenants")))
    shot(d, "tenants")
    d.find_element(By.XPATH, f"//table[@id='tenants']//a[text()='{b}']").click()
    wait(d, EC.presence_of_element_located((By.ID, "users")))
    assert "ann" in d.find_element(By.ID, "users").text
    shot(d, "users")
    assert no_alert(d)


def test_a_big_upload_survives_the_gateway_dying_half_way(voss, people, driver, tmp_path):
    """64 MiB in 8 MiB parts; the S3 worker is killed (SIGKILL) while parts are being sent. The keeper
    restarts it, the portal retries the part that failed, and the object is whole."""
    import json
    import signal

    a, _, _ = people
    d = driver
    login(d, voss.http, a, "ann", PASSWORD)
    wait(d, EC.presence_of_element_located((By.ID, "bucket-form")))
    bucket = f"pr-{uuid.uuid4().hex[:10]}"
    d.find_element(By.ID, "bucket-name").send_keys(bucket)
    d.find_element(By.CSS_SELECTOR, "#bucket-form button").click()
    wait(d, EC.element_to_be_clickable((By.XPATH, f"//tr[@data-bucket='{bucket}']//a"))).click()
    wait(d, EC.presence_of_element_located((By.ID, "upload-form")))
    big = tmp_path / "resume.bin"
    data = os.urandom(64 << 20)
    big.write_bytes(data)
    d.find_element(By.ID, "upload-file").send_keys(str(big))
    # 64 MiB over loopback takes a second or two — the page's progress could pass 20 % and the upload
    # finish (the page then redraws the list) between two looks. Chrome's network emulation holds the
    # upload to ~8 MiB/s, so the kill lands half way.
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 8 << 20})
    d.find_element(By.CSS_SELECTOR, "#upload-form button").click()

    def parts_received():
        """Parts the gateway holds for the page's upload (its id is in the page's localStorage)."""
        tok = d.execute_script("return sessionStorage.getItem('voss.token')")
        ids = d.execute_script("return Object.keys(localStorage).filter(k => k.startsWith('voss.upload:')).map(k => localStorage.getItem(k))")
        for up in ids or []:
            r = requests.get(f"{voss.http}/api/v1/buckets/{bucket}/uploads/{up}", headers={"Authorization": "Bearer " + tok})
            if r.ok:
                return len(r.json().get("parts", []))
        return 0

    # Kill once a fifth is through, as the page shows it or as the gateway has it.
    try:
        wait(d, lambda d: int(d.find_element(By.ID, "upload-status").get_attribute("data-percent") or 0) >= 20 or parts_received() >= 2, 60)
    except TimeoutException:
        status = d.find_element(By.ID, "upload-status")
        s3w = next(w for w in json.loads(voss.ose("--json", "service", "show").stdout)["workers"] if w["name"] == "s3")
        raise AssertionError(f"upload stuck: {status.get_attribute('data-percent')!r} {status.text!r}; parts {parts_received()}; s3 worker {s3w}")
    workers = json.loads(voss.ose("--json", "service", "show").stdout)["workers"]
    pid = next(w["pid"] for w in workers if w["name"] == "s3")
    in_flight = d.execute_script("return Object.keys(localStorage).some(k => k.startsWith('voss.upload:'))")
    os.kill(pid, signal.SIGKILL)
    assert in_flight, "the upload had finished before the kill"
    wait(d, EC.presence_of_element_located((By.XPATH, "//tr[@data-key='resume.bin']")), 120)
    assert "64.0 MiB" in d.find_element(By.ID, "bucket-usage").text
    # Byte-exact, read back through S3 with the REST API's download.
    tok = d.execute_script("return sessionStorage.getItem('voss.token')")
    r = requests.get(f"{voss.http}/api/v1/buckets/{bucket}/objects/resume.bin", headers={"Authorization": "Bearer " + tok})
    assert r.status_code == 200 and hashlib.sha256(r.content).digest() == hashlib.sha256(data).digest()
    new_pid = next(w["pid"] for w in json.loads(voss.ose("--json", "service", "show").stdout)["workers"] if w["name"] == "s3")
    assert new_pid != pid
