"""PostgreSQL-specific end-to-end tests: `ose db set` checks, `ose migration`, failover. Real servers
(pg_harness) and a real keeper with its gateway; clients are boto3."""
import os
import sys

import boto3
import pytest
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from voss_harness import Keeper  # noqa: E402
from pg_harness import Postgres  # noqa: E402

PASSWORD = "Voss-pg-test1"


@pytest.fixture
def pg():
    p = Postgres().init().start()
    p.create_database("voss", "voss", PASSWORD)
    yield p
    p.cleanup()


@pytest.fixture
def keeper(tmp_path):
    k = Keeper(tmp_path / "k", s3=True)
    k.wait_ready()
    yield k
    k.cleanup()


def s3_client(k, tenant="acme", user="alice"):
    """A tenant, user and key made with ose, and a boto3 client for them."""
    import json
    k.ose("tenant", "create", "--name", tenant)
    k.ose("user", "create", "--tenant", tenant, "--name", user)
    key = json.loads(k.ose("--json", "key", "create", "--tenant", tenant, "--user", user, check=True).stdout)
    return s3_for(k, key["accessKey"], key["secret"])


def s3_for(k, access_key, secret):
    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{k.s3_http_port}", aws_access_key_id=access_key,
                        aws_secret_access_key=secret, region_name="us-east-1",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=20))
