"""The i18n worker's Singleton-compatible API, over TCP and over its Unix socket."""
import http.client
import json
import os
import socket

import pytest

from voss_harness import http_get

API = "/i18n/api/v2/translation/products/VOSS/versions/0.1.0"


@pytest.fixture
def k(make_keeper):
    k = make_keeper()
    k.wait_ready()
    return k


def get(k, path, headers=None):
    status, body, hdrs = http_get(k.i18n_port, path, headers=headers)
    return status, (json.loads(body) if body else None), hdrs


def test_component_in_chinese_with_locale_fallback(k):
    status, body, _ = get(k, API + "/locales/zh-CN/components/ose")
    assert status == 200
    assert body["response"]["code"] == 200 and body["signature"] == ""
    assert body["data"]["locale"] == "zh-Hans" and body["data"]["component"] == "ose"
    assert body["data"]["messages"]["state.running"] == "运行中"
    status, body, _ = get(k, API + "/locales/ja-JP/components/ose")
    assert body["data"]["locale"] == "en"


def test_version_fallback(k):
    status, body, _ = get(k, "/i18n/api/v2/translation/products/VOSS/versions/0.1.7/locales/en/components/ose")
    assert status == 200 and body["data"]["version"] == "0.1.0"


def test_pseudo_translation(k):
    _, body, _ = get(k, API + "/locales/en/components/ose?pseudo=true")
    assert body["data"]["messages"]["state.running"] == "@@running@@"


def test_etag_and_304(k):
    status, _, hdrs = get(k, API + "/locales/zh-CN/components/ose")
    etag = hdrs["ETag"]
    status, body, hdrs2 = get(k, API + "/locales/zh-CN/components/ose", headers={"If-None-Match": etag})
    assert status == 304 and hdrs2["ETag"] == etag


def test_lists_and_whole_product(k):
    _, body, _ = get(k, API + "/componentlist")
    assert body["data"]["components"] == ["ose", "portal"]  # the CLI's strings and the web portal's
    _, body, _ = get(k, API + "/localelist")
    assert body["data"]["locales"] == ["en", "zh-Hans"]
    _, body, _ = get(k, API + "?locales=zh-CN,en&components=ose")
    assert [b["locale"] for b in body["data"]["bundles"]] == ["zh-CN", "en"]
    _, body, _ = get(k, "/i18n/api/v2/locale/supportedLanguageList?productName=VOSS&version=0.1.0")
    assert {"languageTag": "zh-Hans", "displayName": "简体中文"} in body["data"]["languages"]
    _, body, _ = get(k, API + "/locales/zh-CN/components/ose/keys/state.running")
    assert body["data"]["translation"] == "运行中"


@pytest.mark.parametrize("path,status", [
    ("/i18n/api/v2/translation/products/Nope/versions/1.0/locales/en/components/ose", 404),
    (API + "/locales/en/components/nope", 404),
    (API + "/locales/!!/components/ose", 400),
    (API + "/locales/en/components/ose/keys/no.such.key", 404),
    ("/i18n/api/v2/nothing", 404),
])
def test_errors_are_json_not_crashes(k, path, status):
    got, body, _ = get(k, path)
    assert got == status and body["response"]["code"] == status and body["data"] is None
    assert k.worker("i18n")["restarts"] == 0


def test_the_unix_socket_serves_the_same_api(k):
    class UnixHTTPConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(os.path.join(k.dir, "run", "i18n.sock"))

    c = UnixHTTPConnection("localhost")
    c.request("GET", API + "/locales/zh-CN/components/ose")
    r = c.getresponse()
    assert r.status == 200
    assert json.loads(r.read())["data"]["messages"]["col.worker"] == "工作进程"
