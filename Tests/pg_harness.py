"""Real PostgreSQL servers for the tests: initdb + pg_ctl in a temporary directory, on a free loopback
port, run as the `postgres` user when the tests run as root (initdb refuses root). Used by the
end-to-end suite (VOSS_TEST_DB=postgres), the `ose db`/migration/failover tests and the listing bench."""
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from voss_harness import free_port, wait_for


def pg_bin():
    """Directory of initdb/pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/*/bin."""
    if os.environ.get("PG_BIN"):
        return os.environ["PG_BIN"]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    path = shutil.which("initdb")
    return os.path.dirname(path) if path else None


def available():
    return pg_bin() is not None


class Postgres:
    """One server. `superuser` is the OS account it runs as; `dsn_args()` for psql."""

    def __init__(self, root=None, port=None, data=None):
        self.bin = pg_bin()
        self.owns_root = root is None
        assert self.bin, "PostgreSQL server binaries not found (install postgresql)"
        self.root = root or tempfile.mkdtemp(prefix="voss-pg-")
        self.port = port or free_port()
        self.data = data or os.path.join(self.root, f"data-{self.port}")
        self.sock = os.path.join(self.root, "sock")
        os.makedirs(self.sock, exist_ok=True)
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else pwd.getpwuid(os.geteuid()).pw_name
        if self.as_root:
            os.chmod(self.root, 0o755)
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")

    def run(self, *cmd, check=True, input=None):
        argv = list(cmd)
        if self.as_root:
            argv = ["runuser", "-u", "postgres", "--"] + argv
        return subprocess.run(argv, check=check, capture_output=True, text=True, input=input, cwd="/")

    def init(self):
        self.run(f"{self.bin}/initdb", "-D", self.data, "-U", self.user, "--auth-local=trust", "--auth-host=scram-sha-256",
                 "-E", "UTF8", "--locale=C.UTF-8", "-N")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.sock}'\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 200\n"
                    "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nshared_buffers = 64MB\n")
        return self

    def start(self):
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-l", os.path.join(self.root, f"log-{self.port}.txt"), "-w", "-t", "30", "start")
        return self

    def stop(self, mode="fast"):
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop", check=False)

    def kill(self):
        """The postmaster dies at once (kill -9): the machine failed."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pid = int(f.readline())
        os.kill(pid, 9)
        wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 10)

    def psql(self, sql, db="postgres", user=None):
        r = self.run(f"{self.bin}/psql", "-w", "-h", self.sock, "-p", str(self.port), "-U", user or self.user, "-d", db, "-v", "ON_ERROR_STOP=1",
                     "-qAtX", "-c", sql, check=False)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()}")
        return r.stdout.strip()

    def create_database(self, name, owner, password):
        self.psql(f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'")
        self.psql(f"CREATE DATABASE {name} OWNER {owner}")

    def standby(self):
        """A streaming standby of this server, from pg_basebackup."""
        s = Postgres(root=self.root)
        self.run(f"{self.bin}/pg_basebackup", "-w", "-h", self.sock, "-p", str(self.port), "-U", self.user, "-D", s.data, "-R", "-X", "stream",
                 "-c", "fast")
        with open(os.path.join(s.data, "postgresql.conf"), "a") as f:
            f.write(f"\nport = {s.port}\n")
        return s

    def promote(self):
        self.run(f"{self.bin}/pg_ctl", "-D", self.data, "-w", "-t", "30", "promote")

    def is_primary(self):
        return self.psql("SELECT pg_is_in_recovery()") == "f"

    def cleanup(self):
        self.stop("immediate")
        if self.owns_root:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            shutil.rmtree(self.data, ignore_errors=True)
