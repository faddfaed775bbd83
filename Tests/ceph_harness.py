"""A real Ceph RGW for the tests: ../shared/tools/ceph/up.sh (1 mon, 1 mgr, 1 memstore OSD, radosgw) in a
temporary directory on a free loopback port, stopped by down.sh (which kills exactly the PIDs it
started). VOSS_TEST_RGW_ENV=PATH/endpoint.env uses a cluster that is already running instead."""
import os
import shutil
import subprocess
import tempfile

from voss_harness import free_port

HERE = os.path.dirname(os.path.abspath(__file__))


def tools_dir():
    for d in (os.environ.get("CEPH_TOOLS"), os.path.join(HERE, "..", "..", "shared", "tools", "ceph"), "/work/shared/tools/ceph"):
        if d and os.path.exists(os.path.join(d, "up.sh")):
            return os.path.abspath(d)
    return None


def available():
    return os.environ.get("VOSS_TEST_RGW_ENV") or (tools_dir() and shutil.which("radosgw"))


class RGW:
    """`endpoint`, `access_key`, `secret_key`, `region`: an admin user with users/buckets caps."""

    def __init__(self):
        self.dir = None
        env_file = os.environ.get("VOSS_TEST_RGW_ENV")
        if not env_file:
            assert tools_dir(), "the Ceph tools (../shared/tools/ceph) are missing"
            self.dir = tempfile.mkdtemp(prefix="voss-ceph-")
            env = dict(os.environ, RGW_PORT=str(free_port()), MON_PORT=str(free_port()), RGW_GC_WAIT="5")
            r = subprocess.run(["bash", os.path.join(tools_dir(), "up.sh"), self.dir], env=env, capture_output=True, text=True,
                               timeout=600)
            if r.returncode != 0:
                raise RuntimeError(f"up.sh failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
            env_file = os.path.join(self.dir, "endpoint.env")
        vals = {}
        with open(env_file) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    vals[k] = v
        self.endpoint = vals["S3_ENDPOINT"]
        self.access_key = vals["S3_ACCESS_KEY"]
        self.secret_key = vals["S3_SECRET_KEY"]
        self.region = vals.get("S3_REGION", "default")
        self.conf = vals.get("CEPH_CONF")

    def client(self, access_key=None, secret_key=None):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=access_key or self.access_key,
                            aws_secret_access_key=secret_key or self.secret_key, region_name=self.region,
                            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}))

    def configure(self, keeper, name="ceph", default=True, tenancy="provisioned"):
        """`ose platforms s3 set` on a keeper, and make it the default for new buckets."""
        args = ["platforms", "s3", "set", "--name", name, "--url", self.endpoint, "--access-key", self.access_key,
                "--secret", self.secret_key, "--region", self.region, "--tenancy", tenancy]
        keeper.ose(*args, check=True)
        if default:
            keeper.ose("platforms", "enable", name, check=True)

    def pids(self):
        """radosgw's and the OSD's process ids (what serves S3 requests), from the cluster's run directory."""
        run = os.path.join(os.path.dirname(self.conf or ""), "run")
        out = []
        for name in ("client.rgw.gw.pid", "osd.0.pid"):
            try:
                out.append(int(open(os.path.join(run, name)).read().strip()))
            except (OSError, ValueError):
                pass
        return out

    def admin(self, *args):
        """radosgw-admin on this cluster (JSON out)."""
        import json
        r = subprocess.run(["radosgw-admin", "--conf", self.conf, *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout or "null")

    def blobs(self, tenants, platform="ceph"):
        """Every blob VOSS keeps here for `tenants` (ids), as VOSS names it (PLATFORM:TENANT:HEX), from their
        buckets; uploads in progress show as `_multipart_…` entries."""
        out = set()
        for b in self.admin("bucket", "list"):
            if b.startswith("voss-") and b[len("voss-"):] in tenants:
                tenant = b[len("voss-"):]
                for o in self.admin("bucket", "list", "--bucket", b, "--max-entries", "1000000"):
                    out.add(f"{platform}:{tenant}:{o['name']}")
        return out

    def cleanup(self):
        if self.dir:
            subprocess.run(["bash", os.path.join(tools_dir(), "down.sh"), self.dir, "--purge"], capture_output=True, timeout=120)
            shutil.rmtree(self.dir, ignore_errors=True)
