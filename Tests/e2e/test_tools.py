"""The command-line tools people use, unmodified: AWS CLI, rclone, s3cmd."""
import hashlib
import json
import os
import shutil
import uuid

import pytest

MiB = 1024 * 1024


from conftest import run


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "src"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("alpha\n")
    (d / "sub" / "b.bin").write_bytes(os.urandom(100_000))
    (d / "big.bin").write_bytes(os.urandom(20 * MiB + 17))
    return d


@pytest.fixture
def aws_env(voss):
    return voss.aws_env()


@pytest.mark.skipif(shutil.which("aws") is None, reason="AWS CLI not installed")
@pytest.mark.parametrize("endpoint", ["http", "https"])
def test_aws_cli_s3_commands(voss, aws_env, files, tmp_path, endpoint):
    ep = ["--endpoint-url", voss.http if endpoint == "http" else voss.https] + (["--no-verify-ssl"] if endpoint == "https" else [])
    b = f"awscli-{endpoint}-{uuid.uuid4().hex[:6]}"
    aws = ["aws"] + ep
    run(aws + ["s3", "mb", f"s3://{b}"], aws_env)
    run(aws + ["s3", "cp", str(files / "a.txt"), f"s3://{b}/a.txt"], aws_env)
    run(aws + ["s3", "cp", str(files / "big.bin"), f"s3://{b}/big.bin"], aws_env)  # multipart above 8 MiB
    ls = run(aws + ["s3", "ls", f"s3://{b}/"], aws_env).stdout
    assert "a.txt" in ls and "big.bin" in ls
    head = json.loads(run(aws + ["s3api", "head-object", "--bucket", b, "--key", "big.bin"], aws_env).stdout)
    assert head["ContentLength"] == 20 * MiB + 17 and head["ETag"].endswith('-3"')
    out = tmp_path / "back.bin"
    run(aws + ["s3", "cp", f"s3://{b}/big.bin", str(out)], aws_env)
    assert sha(out) == sha(files / "big.bin")
    run(aws + ["s3", "sync", str(files), f"s3://{b}/tree"], aws_env)
    keys = json.loads(run(aws + ["s3api", "list-objects-v2", "--bucket", b, "--prefix", "tree/"], aws_env).stdout)["Contents"]
    assert sorted(k["Key"] for k in keys) == ["tree/a.txt", "tree/big.bin", "tree/sub/b.bin"]
    again = run(aws + ["s3", "sync", str(files), f"s3://{b}/tree"], aws_env).stdout
    assert again.strip() == "", "a second sync uploads nothing"
    back = tmp_path / "tree"
    run(aws + ["s3", "sync", f"s3://{b}/tree", str(back)], aws_env)
    assert sha(back / "sub" / "b.bin") == sha(files / "sub" / "b.bin")
    run(aws + ["s3api", "put-object", "--bucket", b, "--key", "api.txt", "--body", str(files / "a.txt"),
               "--metadata", "k=v", "--checksum-algorithm", "SHA256"], aws_env)
    got = tmp_path / "api.txt"
    meta = json.loads(run(aws + ["s3api", "get-object", "--bucket", b, "--key", "api.txt", str(got)], aws_env).stdout)
    assert meta["Metadata"] == {"k": "v"} and got.read_text() == "alpha\n"
    url = run(aws + ["s3", "presign", f"s3://{b}/a.txt", "--expires-in", "60"], aws_env).stdout.strip()
    import requests
    assert requests.get(url, verify=False).text == "alpha\n"
    run(aws + ["s3", "rm", f"s3://{b}", "--recursive"], aws_env)
    run(aws + ["s3", "rb", f"s3://{b}"], aws_env)
    r = run(aws + ["s3", "ls", f"s3://{b}/"], aws_env, check=False)
    assert r.returncode != 0 and "NoSuchBucket" in r.stderr


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone not installed")
def test_rclone(voss, files, tmp_path):
    env = voss.rclone_env()
    b = f"rclone-{uuid.uuid4().hex[:6]}"
    run(["rclone", "mkdir", f"voss:{b}"], env)
    run(["rclone", "copy", str(files), f"voss:{b}/tree", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"], env)
    listing = run(["rclone", "ls", f"voss:{b}"], env).stdout
    assert "tree/big.bin" in listing and "tree/sub/b.bin" in listing
    run(["rclone", "check", str(files), f"voss:{b}/tree"], env)
    assert run(["rclone", "cat", f"voss:{b}/tree/a.txt"], env).stdout == "alpha\n"
    run(["rclone", "copy", f"voss:{b}/tree", str(tmp_path / "back")], env)
    assert sha(tmp_path / "back" / "big.bin") == sha(files / "big.bin")
    run(["rclone", "purge", f"voss:{b}"], env)


@pytest.mark.skipif(shutil.which("s3cmd") is None, reason="s3cmd not installed")
def test_s3cmd(voss, files, tmp_path):
    cfg = voss.s3cmd_config(tmp_path / "s3cfg", "signature_v2 = False\nbucket_location = us-east-1\n")
    s3cmd = ["s3cmd", "-c", str(cfg)]
    b = f"s3cmd-{uuid.uuid4().hex[:6]}"
    run(s3cmd + ["mb", f"s3://{b}"])
    run(s3cmd + ["put", str(files / "a.txt"), f"s3://{b}/a.txt"])
    run(s3cmd + ["put", "--multipart-chunk-size-mb=5", str(files / "big.bin"), f"s3://{b}/big.bin"])
    ls = run(s3cmd + ["ls", f"s3://{b}"]).stdout
    assert "a.txt" in ls and "big.bin" in ls
    run(s3cmd + ["get", f"s3://{b}/big.bin", str(tmp_path / "big.bin")])
    assert sha(tmp_path / "big.bin") == sha(files / "big.bin")
    info = run(s3cmd + ["info", f"s3://{b}/a.txt"]).stdout
    assert "alpha" not in info and "MD5" in info
    run(s3cmd + ["del", "--recursive", "--force", f"s3://{b}"])
    run(s3cmd + ["rb", f"s3://{b}"])
