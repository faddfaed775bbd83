#!/usr/bin/env python3
"""Gossip benchmark (`make bench-gossip`): N real keepers on loopback form a cluster; then

- propagation: a setting changed through one node's control API (what `ose args set` calls), and the
  time until every node has applied it (stored and handed to its workers: the keeper logs
  "configuration changed" with a millisecond timestamp); median, p95 and max over the rounds of the
  slowest node, and how many node-deliveries took longer than 1 s;
- failure detection: kill -9 of one node until every survivor logs it as failed;
- idle cost per node: CPU, RSS and gossip bytes/s over a quiet interval.

Reference (HashiCorp Serf on this machine class, from the issue): a user event reaches every node in
0.17 / 0.28 / 0.42 / 0.53 s median for N = 5 / 10 / 25 / 50; 0.1-2 % of events miss a node for
7-28 s; failure detection 5.8-8.8 s; ~225 B/s and 0.17 % CPU per idle node.

Prints a table and writes bench-results/gossip.json.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "Tests"))
import voss_harness  # noqa: E402

SERF_MEDIAN = {5: 0.17, 10: 0.28, 25: 0.42, 50: 0.53}
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z? \S+ \[voss\.(config|gossip)\] (.*)$")


def parse_time(text):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc).timestamp()


def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


class Node(voss_harness.Keeper):
    """A keeper alone (no workers: what is measured is its gossip), from the test harness, which
    picks its ports, writes its node file and starts it; plus its log and /proc readings."""

    def __init__(self, root, index):
        name = f"node{index:02d}"
        os.makedirs(os.path.join(root, name))
        super().__init__(os.path.join(root, name), i18n=False, name=name)
        self.log_path = os.path.join(self.dir, "log", "keeper.log")
        self.offset = 0

    def new_lines(self):
        """(unix time, logger, text) of log lines written since the last call."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        out = []
        for raw in data[:end].decode("utf-8", "replace").splitlines():
            m = LINE.match(raw)
            if m:
                out.append((parse_time(m.group(1)), m.group(2), m.group(3)))
        return out

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0



def first_log_times(nodes, logger_name, needle, t0, timeout, interval):
    """Per node, seconds from `t0` to the first new log line of `logger_name` containing `needle`."""
    found = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(nodes) and time.monotonic() < deadline:
        time.sleep(interval)
        for n in nodes:
            if n.name in found:
                continue
            for ts, logger, text in n.new_lines():
                if logger == logger_name and needle in text:
                    found[n.name] = ts - t0
                    break
    return found


def alive_everywhere(nodes):
    names = {n.name for n in nodes}
    for n in nodes:
        st, view = n.api("GET", "/v1/cluster")
        if st != 200 or {m["name"] for m in view["members"] if m["status"] == "alive"} != names:
            return False
    return True


def run_cluster(n_nodes, rounds, idle_seconds):
    root = tempfile.mkdtemp(prefix=f"voss-gossip-{n_nodes}-")
    nodes = []
    try:
        for i in range(n_nodes):
            nodes.append(Node(root, i + 1))
        seed = nodes[0]
        token = seed.api("GET", "/v1/cluster/token")[1]["token"]
        for n in nodes[1:]:
            st, body = n.api("POST", "/v1/cluster/join", {"seed": f"127.0.0.1:{seed.gossip_port}", "token": token})
            if st != 200:
                raise RuntimeError(f"{n.name} could not join: {body}")
        t = time.monotonic()
        voss_harness.wait_for(lambda: alive_everywhere(nodes), 120, interval=0.5, what="every member alive on every node")
        converge = time.monotonic() - t
        time.sleep(2)
        for n in nodes:
            n.new_lines()

        # Propagation.
        slowest, per_node, late, missing = [], [], 0, 0
        for r in range(rounds):
            origin = nodes[(r * 7) % n_nodes]
            key = f"bench.r{r}"
            needle = f"keys=args.{key}"
            t0 = time.time()
            st, body = origin.api("PUT", "/v1/args/" + key, {"value": str(r)})
            if st != 200:
                raise RuntimeError(f"set failed: {body}")
            applied = first_log_times(nodes, "config", needle, t0, timeout=30, interval=0.02)
            missing += n_nodes - len(applied)
            delays = list(applied.values())
            per_node += delays
            late += sum(1 for d in delays if d > 1.0)
            slowest.append(max(delays) if delays else float("inf"))
            time.sleep(0.3)

        # Idle cost.
        time.sleep(2)
        def snapshot():
            return [(n.cpu_seconds(), n.api("GET", "/v1/cluster")[1]) for n in nodes]
        s0, t0 = snapshot(), time.monotonic()
        time.sleep(idle_seconds)
        s1, t1 = snapshot(), time.monotonic()
        dt = t1 - t0
        cpu = [100 * (b[0] - a[0]) / dt for a, b in zip(s0, s1)]
        sent = [(b[1]["bytesSent"] - a[1]["bytesSent"]) / dt for a, b in zip(s0, s1)]
        recv = [(b[1]["bytesReceived"] - a[1]["bytesReceived"]) / dt for a, b in zip(s0, s1)]
        rss = [n.rss_kib() / 1024 for n in nodes]

        # Failure detection.
        victim = nodes[-1]
        survivors = nodes[:-1]
        for n in survivors:
            n.new_lines()
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait()
        t_kill = time.time()
        detected = first_log_times(survivors, "gossip", f"member failed member={victim.name}", t_kill, timeout=60, interval=0.05)
        det = sorted(detected.values())

        return {
            "nodes": n_nodes,
            "converge_s": converge,
            "rounds": rounds,
            "propagation_median_s": statistics.median(slowest),
            "propagation_p95_s": percentile(slowest, 95),
            "propagation_max_s": max(slowest),
            "node_deliveries": len(per_node),
            "node_deliveries_over_1s": late,
            "node_deliveries_missing": missing,
            "detect_all_s": det[-1] if len(det) == len(survivors) else None,
            "detect_first_s": det[0] if det else None,
            "detect_median_s": statistics.median(det) if det else None,
            "idle_cpu_percent_per_node": statistics.mean(cpu),
            "idle_rss_mib_per_node": statistics.mean(rss),
            "idle_sent_bytes_per_s_per_node": statistics.mean(sent),
            "idle_received_bytes_per_s_per_node": statistics.mean(recv),
        }
    finally:
        for n in nodes:
            n.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=".build/release", help="directory with voss-keeper")
    ap.add_argument("--sizes", default="5,10,25,50", help="cluster sizes")
    ap.add_argument("--rounds", type=int, default=20, help="settings changed per size")
    ap.add_argument("--idle", type=float, default=10, help="seconds of idle measurement")
    ap.add_argument("--out", default="bench-results/gossip.json")
    a = ap.parse_args()
    voss_harness.BIN = os.path.abspath(a.bin)
    results = []
    for size in [int(x) for x in a.sizes.split(",")]:
        print(f"gossip bench: {size} nodes ...", file=sys.stderr, flush=True)
        results.append(run_cluster(size, a.rounds, a.idle))

    print()
    print("Gossip on loopback (VOSS keepers; Serf reference from the issue, same machine class)")
    hdr = f"{'N':>3} {'median':>8} {'p95':>7} {'max':>7} {'Serf med':>8} {'ratio':>6} {'>1s':>5} {'lost':>5} {'detect':>7} {'CPU %':>6} {'RSS MiB':>7} {'out B/s':>8} {'in B/s':>7}"
    print(hdr)
    print("-" * len(hdr))
    for r in results:
        serf = SERF_MEDIAN.get(r["nodes"])
        ratio = f"{r['propagation_median_s'] / serf:.2f}" if serf else "-"
        det = f"{r['detect_all_s']:.2f}" if r["detect_all_s"] is not None else "n/a"
        print(f"{r['nodes']:>3} {r['propagation_median_s']:>8.3f} {r['propagation_p95_s']:>7.3f} {r['propagation_max_s']:>7.3f} "
              f"{serf if serf else '-':>8} {ratio:>6} {r['node_deliveries_over_1s']:>5} {r['node_deliveries_missing']:>5} {det:>7} "
              f"{r['idle_cpu_percent_per_node']:>6.2f} {r['idle_rss_mib_per_node']:>7.1f} "
              f"{r['idle_sent_bytes_per_s_per_node']:>8.0f} {r['idle_received_bytes_per_s_per_node']:>7.0f}")
    print()
    print("median/p95/max: seconds from the control-API call on one node until the slowest node applied the")
    print("setting. ratio: VOSS median / Serf median (target <= 0.5). >1s: node-deliveries later than 1 s")
    print("(target 0). detect: kill -9 until every survivor marked the node failed (Serf 5.8-8.8 s).")
    print("Idle per node: CPU, RSS, gossip bytes sent/received per second (Serf ~225 B/s, 0.17 % CPU).")
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
