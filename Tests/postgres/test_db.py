"""`ose db set` says precisely what is wrong, saves nothing then, and switches an empty node."""
import os
import re
import json

from conftest import PASSWORD
from voss_harness import free_port, wait_for

# The schema version this build writes (Sources/VossS3Store/Schema.swift), read rather than repeated.
SCHEMA_VERSION = int(re.search(r"static let current = (\d+)", open(os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "Sources", "VossS3Store", "Schema.swift")).read()).group(1))


def db_set(k, url, user="voss", secret=PASSWORD, *extra):
    return k.ose("db", "set", "--url", url, "--user", user, "--secret", secret, *extra)


def test_bad_settings_give_clear_errors_and_save_nothing(keeper, pg):
    url = f"jdbc:postgresql://127.0.0.1:{pg.port}/voss"
    cases = [
        (f"jdbc:postgresql://127.0.0.1:{free_port()}/voss", "voss", PASSWORD, "host unreachable"),
        (url, "voss", "Wrong-pass1", "authentication failed for user 'voss'"),
        (f"jdbc:postgresql://127.0.0.1:{pg.port}/nosuchdb", "voss", PASSWORD, "database 'nosuchdb' does not exist"),
        ("mysql://127.0.0.1/voss", "voss", PASSWORD, "is not a PostgreSQL URL"),
        (f"jdbc:postgresql://127.0.0.1:{pg.port}/voss?sslmode=sometimes", "voss", PASSWORD, "sslmode=sometimes"),
        (url, "voss", "short", "8"),
    ]
    for u, user, secret, expected in cases:
        r = db_set(keeper, u, user, secret)
        assert r.returncode == 1, (u, r.stdout, r.stderr)
        assert expected in r.stderr, (u, r.stderr)
    # A user who may log in but not create tables (PostgreSQL 15: no CREATE on public by default).
    pg.psql(f"CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}'")
    r = db_set(keeper, url, "reader")
    assert r.returncode == 1 and "not allowed to create tables" in r.stderr, r.stderr
    shown = json.loads(keeper.ose("--json", "db", "show", check=True).stdout)
    assert shown["active"] == "embedded" and "url" not in shown or shown.get("url") is None


def test_an_empty_node_switches_at_once_and_the_secret_is_hidden(keeper, pg):
    r = db_set(keeper, f"jdbc:postgresql://127.0.0.1:{pg.port}/voss", "voss", PASSWORD)
    assert r.returncode == 0, r.stderr
    assert "uses PostgreSQL from now on" in r.stdout
    shown = keeper.ose("db", "show", check=True).stdout
    assert f"jdbc:postgresql://127.0.0.1:{pg.port}/voss" in shown and PASSWORD not in shown
    assert PASSWORD in keeper.ose("db", "show", "--with-secret", check=True).stdout
    wait_for(lambda: "postgres" in (keeper.worker("s3").get("status") or ""), 30, what="gateway on PostgreSQL")
    # The schema is there, at the current version, applied once.
    v = SCHEMA_VERSION
    assert pg.psql("SELECT count(*), max(version) FROM schema_version", db="voss") == f"{v}|{v}"
    assert keeper.ose("migration", "show").returncode == 1


def test_several_hosts_use_the_writable_one(keeper, pg):
    standby = pg.standby().start()
    try:
        # The standby first in the list: VOSS must skip it.
        url = f"jdbc:postgresql://127.0.0.1:{standby.port},127.0.0.1:{pg.port}/voss"
        r = db_set(keeper, url)
        assert r.returncode == 0, r.stderr
        r = db_set(keeper, f"jdbc:postgresql://127.0.0.1:{standby.port}/voss")
        assert r.returncode == 1 and "accepts writes" in r.stderr, r.stderr
    finally:
        standby.cleanup()
