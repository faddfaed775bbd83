"""ose against a real keeper: commands, languages, exit codes, secrets, certificates."""
import json
import os
import subprocess

import pytest

from voss_harness import http_get, wait_for


@pytest.fixture
def k(make_keeper):
    k = make_keeper()
    k.wait_ready()
    return k


def test_help_and_version(k):
    r = k.ose()
    assert r.returncode == 0 and "Commands:" in r.stdout and "args set --k KEY --v VALUE" in r.stdout
    assert "Exit status:" in r.stdout
    r = k.ose("cert", "import", "-h")
    assert r.returncode == 0 and "--path FILE.p12" in r.stdout and "--force" in r.stdout
    r = k.ose("--version", check=True)
    assert r.stdout.startswith("ose ") and "voss-keeper" in r.stdout
    r = k.ose("--json", "--version", check=True)
    assert json.loads(r.stdout)["keeper"]["node"] == "itest"


def test_chinese_locale_prints_chinese_via_the_i18n_service(k):
    r = k.ose("service", "show", env={"LANG": "zh_CN.UTF-8"}, check=True)
    assert "[服务]" in r.stdout and "运行中" in r.stdout and "就绪" in r.stdout
    r = k.ose("-h", env={"LC_ALL": "zh_CN.UTF-8"}, check=True)
    assert "命令：" in r.stdout
    r = k.ose("args", "get", "--k", "missing", env={"LANG": "zh_CN.UTF-8"})
    assert r.returncode == 1 and "没有名为 'missing' 的参数" in r.stderr


def test_chinese_falls_back_to_english_when_the_i18n_service_is_down(k):
    k.ose("service", "stop", "--worker", "i18n", check=True)
    r = k.ose("service", "show", env={"LANG": "zh_CN.UTF-8"}, check=True)
    assert "[Service]" in r.stdout


def test_args_roundtrip_and_validation(k):
    assert k.ose("args", "set", "--k", "worker.restart.max", "--v", "7", check=True).stdout.strip() == "worker.restart.max = 7"
    assert k.ose("args", "get", "--k", "worker.restart.max", check=True).stdout.strip() == "7"
    r = k.ose("args", "set", "--k", "worker.restart.max", "--v", "-3")
    assert r.returncode == 1 and "whole number from 0 to 100000" in r.stderr
    r = k.ose("args", "set", "--k", "1bad", "--v", "x")
    assert r.returncode == 1 and "not a valid argument key" in r.stderr
    r = k.ose("--json", "args", "set", "--k", "free.text", "--v", "a value with spaces", check=True)
    assert json.loads(r.stdout) == {"key": "free.text", "value": "a value with spaces"}
    r = k.ose("--json", "args", "show", check=True)
    assert {a["key"] for a in json.loads(r.stdout)["args"]} == {"worker.restart.max", "free.text"}
    assert k.ose("args", "del", "--k", "free.text", check=True).returncode == 0
    r = k.ose("args", "del", "--k", "free.text")
    assert r.returncode == 1
    r = k.ose("--json", "args", "get", "--k", "free.text")
    assert r.returncode == 1 and json.loads(r.stdout)["error"]["code"] == "not_found"


def test_exit_codes(k, tmp_path):
    assert k.ose("args", "set", "--k", "x").returncode == 2
    assert k.ose("no-such-command").returncode == 2
    r = k.ose("--port", "1", "service", "show")
    assert r.returncode == 3 and "Cannot reach the keeper" in r.stderr


def test_cert_gen_and_show(k):
    # A first start leaves a self-signed certificate for the node, so HTTPS works at once.
    first = json.loads(k.ose("--json", "cert", "show", check=True).stdout)
    assert first["source"] == "generated" and first["chain"][0]["subject"].endswith("CN=itest")
    assert "DNS:localhost" in first["chain"][0]["subjectAlternativeNames"]
    r = k.ose("cert", "gen", "--cn", "s3.example.test", "--secret", "x", "--san", "127.0.0.1,localhost", check=True)
    assert "CN=s3.example.test" in r.stdout and "IP:127.0.0.1" in r.stdout and "EC P-256" in r.stdout
    info = json.loads(k.ose("--json", "cert", "show", check=True).stdout)
    assert info["source"] == "generated" and info["chain"][0]["selfSigned"] and "secret" not in info
    assert k.ose("cert", "gen", "--cn", "bad name", "--secret", "x").returncode == 1


def test_cert_gen_prompts_for_the_secret_twice_on_stdin(k):
    r = k.ose("cert", "gen", "--cn", "s3.example.test", input="It's-0k'Pass\n")
    assert r.returncode == 0, r.stderr
    assert "It's-0k'Pass" in k.ose("cert", "show", "--with-secret", check=True).stdout


def make_p12(tmp_path, password, legacy=False):
    key, cert, p12 = tmp_path / "key.pem", tmp_path / "cert.pem", tmp_path / ("legacy.p12" if legacy else "modern.p12")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "30", "-subj", "/CN=imported.example.test"], check=True, capture_output=True)
    args = ["openssl", "pkcs12", "-export", "-in", cert, "-inkey", key, "-out", p12, "-passout", f"pass:{password}"]
    if legacy:
        args.insert(2, "-legacy")
    subprocess.run(args, check=True, capture_output=True)
    return p12


@pytest.mark.parametrize("legacy", [False, True])
def test_cert_import_pkcs12(k, tmp_path, legacy):
    p12 = make_p12(tmp_path, "Good#Pass1", legacy=legacy)
    r = k.ose("cert", "import", "--path", str(p12), "--secret", "Good#Pass1", check=True)
    assert "CN=imported.example.test" in r.stdout and "RSA 2048" in r.stdout
    r = k.ose("cert", "import", "--path", str(p12), "--secret", "Wrong#Pass1")
    assert r.returncode == 1 and "does not open this PKCS#12" in r.stderr


def test_cert_import_secret_policy_and_force(k, tmp_path):
    p12 = make_p12(tmp_path, "weak")
    r = k.ose("cert", "import", "--path", str(p12), "--secret", "weak")
    assert r.returncode == 1
    for text in ("at least 8 characters", "upper-case", "digit", "--force"):
        assert text in r.stderr
    assert k.ose("cert", "import", "--path", str(p12), "--secret", "weak", "--force", check=True).returncode == 0
    secret_file = tmp_path / "secret"
    secret_file.write_text("weak\n")
    assert k.ose("cert", "import", "--path", str(p12), "--secret-file", str(secret_file), "--force").returncode == 0


def test_cert_import_rejects_what_is_not_pkcs12(k, tmp_path):
    bogus = tmp_path / "x.p12"
    bogus.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot really\n")
    r = k.ose("cert", "import", "--path", str(bogus), "--secret", "Good#Pass1")
    assert r.returncode == 1 and "not a PKCS#12 keystore" in r.stderr
    r = k.ose("cert", "import", "--path", str(tmp_path / "missing.p12"), "--secret", "Good#Pass1")
    assert r.returncode == 1 and "There is no file" in r.stderr
