"""End-to-end S3 tests: real clients (boto3, AWS CLI, rclone, s3cmd) against the real gateway started
by the real keeper. One keeper per session; each test gets fresh buckets."""
import json
import os
import re
import sqlite3
import subprocess
import sys
import uuid
import warnings

import boto3
import pytest
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from voss_harness import Keeper, wait_for  # noqa: E402
from pg_harness import Postgres  # noqa: E402
from ceph_harness import RGW  # noqa: E402

warnings.filterwarnings("ignore", message="Unverified HTTPS request")


class Identity:
    def __init__(self, tenant, user, access_key, secret, tenant_id):
        self.tenant, self.user, self.access_key, self.secret, self.tenant_id = tenant, user, access_key, secret, tenant_id


class VOSS:
    """The running system plus helpers to make clients."""

    def __init__(self, keeper):
        self.k = keeper
        self.http = f"http://127.0.0.1:{keeper.s3_http_port}"
        self.https = f"https://127.0.0.1:{keeper.s3_port}"
        self.ids = {}
        self.pg = None
        self.rgw = None

    @property
    def location(self):
        """What GetBucketLocation answers for a new bucket: the default platform's name when it is
        an upstream, else nothing (us-east-1)."""
        return "ceph" if self.rgw else None

    def ose(self, *args, check=True):
        return self.k.ose(*args, check=check)

    def identity(self, tenant, user, role=None):
        key = (tenant, user)
        if key not in self.ids:
            self.ose("tenant", "create", "--name", tenant, check=False)
            self.ose("user", "create", "--tenant", tenant, "--name", user, *(["--role", role] if role else []))
            created = json.loads(self.ose("--json", "key", "create", "--tenant", tenant, "--user", user).stdout)
            tenants = json.loads(self.ose("--json", "tenant", "list").stdout)["tenants"]
            tid = next(t["id"] for t in tenants if t["name"] == tenant)
            self.ids[key] = Identity(tenant, user, created["accessKey"], created["secret"], tid)
        return self.ids[key]

    def client(self, who=("acme", "alice"), scheme="http", role=None, **config):
        ident = self.identity(*who, role=role)
        config.setdefault("retries", {"max_attempts": 1})
        cfg = Config(**config)
        return boto3.client(
            "s3", endpoint_url=self.https if scheme == "https" else self.http, aws_access_key_id=ident.access_key,
            aws_secret_access_key=ident.secret, region_name="us-east-1", verify=False, config=cfg)

    def blob_files(self):
        """Names of the local platform's blob files (uploads in progress under .tmp left out)."""
        out = set()
        for root, _, names in os.walk(os.path.join(self.k.dir, "lib", "objects")):
            if "/.tmp" not in root:
                out |= set(names)
        return out

    def column(self, sql):
        """One column of a query on the metadata store in use (SQLite file or PostgreSQL), as text."""
        if self.pg:
            out = self.pg.psql(sql, db="voss")
            return out.split("\n") if out else []
        db = sqlite3.connect(os.path.join(self.k.dir, "lib", "metadata.sqlite"))
        try:
            return [str(r[0]) for r in db.execute(sql)]
        finally:
            db.close()

    def s3cmd_config(self, path, extra=""):
        """An s3cmd configuration file for alice at acme over plain HTTP; `extra` lines are appended
        (without them, s3cmd keeps its defaults, e.g. bucket_location US)."""
        ident = self.identity("acme", "alice")
        host = self.http.split("//")[1]
        path.write_text(f"[default]\naccess_key = {ident.access_key}\nsecret_key = {ident.secret}\nhost_base = {host}\n"
                        f"host_bucket = {host}\nuse_https = False\n{extra}")
        return path

    def aws_env(self, who=("acme", "alice")):
        """The environment for the AWS CLI as installed, with only these credentials (no profile)."""
        ident = self.identity(*who)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ident.access_key, AWS_SECRET_ACCESS_KEY=ident.secret,
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        env.pop("AWS_PROFILE", None)
        return env

    def rclone_env(self, scheme="http"):
        """The environment that makes rclone's remote `voss:` this gateway, for alice at acme."""
        ident = self.identity("acme", "alice")
        env = dict(os.environ, RCLONE_CONFIG_VOSS_TYPE="s3", RCLONE_CONFIG_VOSS_PROVIDER="Other",
                   RCLONE_CONFIG_VOSS_ACCESS_KEY_ID=ident.access_key, RCLONE_CONFIG_VOSS_SECRET_ACCESS_KEY=ident.secret,
                   RCLONE_CONFIG_VOSS_ENDPOINT=self.https if scheme == "https" else self.http,
                   RCLONE_CONFIG_VOSS_REGION="us-east-1", RCLONE_CONFIG="/dev/null")
        env.pop("AWS_CA_BUNDLE", None)  # rclone's SDK refuses a CA bundle with its own HTTP transport
        return env

    def resource_url(self, bucket, key="", scheme="http"):
        base = self.https if scheme == "https" else self.http
        return f"{base}/{bucket}/{key}"


def run(cmd, env=None, check=True, input=None):
    """A command-line tool, to its end (5 minutes at most); with `check`, it must succeed."""
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, input=input)
    if check:
        assert r.returncode == 0, f"{' '.join(cmd)} -> {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


PG_PASSWORD = "Voss-e2e-pw1"


def use_postgres(k, pg, db="voss"):
    """`ose db set` on a keeper whose embedded store is empty: the gateway switches to PostgreSQL."""
    r = k.ose("db", "set", "--url", f"jdbc:postgresql://127.0.0.1:{pg.port}/{db}", "--user", "voss", "--secret", PG_PASSWORD,
              check=True)
    assert "PostgreSQL" in r.stdout, r.stdout
    wait_for(lambda: "postgres" in (k.worker("s3").get("status") or "") and k.worker("s3")["state"] == "running", 30,
             what="gateway on PostgreSQL")


@pytest.fixture(scope="session")
def voss(tmp_path_factory):
    """The system under test; VOSS_TEST_DB=postgres runs the whole suite on PostgreSQL,
    VOSS_TEST_PLATFORM=rgw with every bucket on a real Ceph RGW (the `s3` platform)."""
    d = tmp_path_factory.mktemp("voss")
    pg = None
    rgw = None
    if os.environ.get("VOSS_TEST_DB") == "postgres":
        pg = Postgres().init().start()
        pg.create_database("voss", "voss", PG_PASSWORD)
    k = Keeper(d, s3=True)
    k.wait_ready()
    try:
        if pg:
            use_postgres(k, pg)
        if os.environ.get("VOSS_TEST_PLATFORM") == "rgw":
            rgw = RGW()
            rgw.configure(k)
            wait_for(lambda: "ceph" in k.ose("platforms", "show").stdout, 10, what="platform configured")
        v = VOSS(k)
        v.pg = pg
        v.rgw = rgw
        yield v
    finally:
        k.cleanup()
        if pg:
            pg.cleanup()
        if rgw:
            rgw.cleanup()


@pytest.fixture(params=["http", "https"])
def scheme(request):
    return request.param


@pytest.fixture
def s3(voss):
    return voss.client()


def _empty(client, bucket):
    try:
        for up in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            client.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
        # Every version and delete marker (a bucket that never had versioning lists each object once).
        pages = client.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for page in pages:
            keys = [{"Key": o["Key"], "VersionId": o["VersionId"]} for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        client.delete_bucket(Bucket=bucket)
    except Exception:
        pass


@pytest.fixture
def new_bucket(voss, request):
    """Makes buckets for one test and removes them (and their contents) afterwards."""
    made = []

    def make(client=None, name=None, **kw):
        client = client or voss.client()
        base = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-")
        name = name or f"{base}-{uuid.uuid4().hex[:8]}"
        client.create_bucket(Bucket=name, **kw)
        made.append((client, name))
        return name

    yield make
    for client, name in made:
        _empty(client, name)


@pytest.fixture
def bucket(new_bucket):
    return new_bucket()
