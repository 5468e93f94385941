#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Raw results of `make bench` (scripts/bench.sh) in, tables and chart data out.

    bench_report.py record --path P --test T --rep N --result FILE [KEY=NUM ...]
        prints one line of raw.jsonl: the load generator's (or curl's) JSON
        from FILE, the idle_open=<n> count if FILE has one, and KEY=NUM extras.
    bench_report.py idle-sum FILE...
        adds up the outputs of the load generators of one stepped idle run.
    bench_report.py rates RAW [--path P]
        prints "R25 R50": 25% and 50% of the median max req/s of P's direct
        path (BASELINE; "direct" for most).
    bench_report.py report RAW --out DIR [--seconds N] [--command CMD]
        writes DIR/results.json, DIR/results.md and DIR/chart.dat.

A figure is the median of its repetitions with their spread (min..max).
A figure whose runs saw more than 0.1% failed requests (non-2xx answers,
connection errors, timeouts) is reported as failed, with its error count,
never as a number.
"""
import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

PATHS = ["direct", "meshforge", "meshforge-free", "meshforge-2loops", "meshforge-sockmap", "meshforge-strict",
         "meshforge-synflood", "meshforge-l7", "meshforge-l7-policy", "nginx", "haproxy",
         "local-direct", "meshforge-local", "meshforge-local-sockmap", "host-direct",
         "meshforge-frontdoor"]
LABEL = {"direct": "direct", "meshforge": "meshforge L4",
         "meshforge-free": "meshforge L4, agents free",
         "meshforge-2loops": "meshforge L4, 2 loops",
         "meshforge-sockmap": "meshforge L4 + sockmap",
         "meshforge-strict": "meshforge L4 STRICT",
         "meshforge-synflood": "meshforge L4 under SYN flood", "meshforge-l7": "meshforge L7",
         "meshforge-l7-policy": "meshforge L7 + policies",
         "nginx": "nginx pair", "haproxy": "HAProxy pair",
         "local-direct": "same node, direct", "meshforge-local": "meshforge same node",
         "meshforge-local-sockmap": "meshforge same node + sockmap",
         "host-direct": "host process, direct",
         "meshforge-frontdoor": "meshforge front door (bare metal)"}
# The direct path each path's latency rates come from and its added
# latency is measured over: the same-node paths' own (a1 to a2, or node
# a's process to a2); "direct" for the others.
BASELINE = {"local-direct": "local-direct", "meshforge-local": "local-direct",
            "meshforge-local-sockmap": "local-direct",
            "host-direct": "host-direct", "meshforge-frontdoor": "host-direct"}
# The paths with no proxy.
DIRECT = ("direct", "local-direct", "host-direct")
MAX_ERROR_RATE = 0.001
# An open-loop run that delivered less than this share of its target rate
# was saturated: its latencies are those of a queue, not of the path.
SATURATED = 0.95


def parse_json_in(text):
    """The last JSON object in text (a tool may print lines before it)."""
    end = text.rfind("}")
    while end >= 0:
        start = text.rfind("{", 0, end)
        while start >= 0:
            try:
                return json.loads(text[start:end + 1])
            except ValueError:
                start = text.rfind("{", 0, start)
        end = text.rfind("}", 0, end)
    return None


def read_sched(name):
    """mf_schedlat's JSON: the agents' run-queue waits and CPU time."""
    try:
        with open(name, encoding="utf-8") as f:
            return parse_json_in(f.read())
    except OSError:
        return None


def parse_turns(name):
    """The loop-turn histogram lines of one /metrics scrape, summed over the
    loops: {"sum": s, "count": n, "buckets": {le: cumulative count}}."""
    out = {"sum": 0.0, "count": 0, "buckets": {}}
    try:
        with open(name, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for ln in lines:
        m = re.match(r'meshforge_loop_turn_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)', ln)
        if not m:
            continue
        kind, labels, v = m.group(1), m.group(2), float(m.group(3))
        if kind == "sum":
            out["sum"] += v
        elif kind == "count":
            out["count"] += int(v)
        else:
            le = re.search(r'le="([^"]+)"', labels).group(1)
            out["buckets"][le] = out["buckets"].get(le, 0) + int(v)
    return out


def read_turns(prefix):
    """The change of both agents' loop-turn histograms across a run, from
    the scrapes PREFIX-{a,b}{0,1} that scripts/bench.sh wrote."""
    total = {"sum": 0.0, "count": 0, "buckets": {}}
    for node in ("a", "b"):
        t0, t1 = parse_turns(prefix + "-%s0" % node), parse_turns(prefix + "-%s1" % node)
        if not t0 or not t1:
            return None
        total["sum"] += t1["sum"] - t0["sum"]
        total["count"] += t1["count"] - t0["count"]
        for le, v in t1["buckets"].items():
            total["buckets"][le] = total["buckets"].get(le, 0) + v - t0["buckets"].get(le, 0)
    return total


def turn_quantile(turns, q):
    """The upper edge (s) of the bucket that holds quantile q of the turns."""
    n = turns["count"]
    if n <= 0:
        return None
    edges = sorted(((float("inf") if le == "+Inf" else float(le)), c)
                   for le, c in turns["buckets"].items())
    for le, c in edges:
        if c >= q * n:
            return le
    return None


def cmd_record(args):
    line = {"path": args.path, "test": args.test, "rep": args.rep, "time": time.time()}
    text = ""
    if args.result and args.result != "/dev/null":
        try:
            with open(args.result, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError as e:
            line["read_error"] = str(e)
        err = args.result + ".err"
        if os.path.exists(err):
            with open(err, encoding="utf-8", errors="replace") as f:
                tail = f.read()[-400:].strip()
            if tail:
                line["stderr_tail"] = tail
    line["result"] = parse_json_in(text) if text else None
    m = re.search(r"^idle_open=(\d+)(?: idle_failed=(\d+))?", text, re.M)
    if m:
        line["idle_open"] = int(m.group(1))
        if m.group(2) is not None:
            line["idle_failed"] = int(m.group(2))
    for kv in args.extra:
        k, _, v = kv.partition("=")
        if k == "sched":
            line["sched"] = read_sched(v)
            continue
        if k == "turns":
            line["turns"] = read_turns(v)
            continue
        try:
            line[k] = int(v)
        except ValueError:
            try:
                line[k] = float(v)
            except ValueError:
                line[k] = v
    print(json.dumps(line, sort_keys=True))


IDLE_KEYS = ("target_conns", "established", "connect_failed", "dropped_before_ready",
             "open_at_ready", "dropped_during_hold", "open_at_end")


def cmd_idle_sum(args):
    """Adds up the idle-mode outputs of the steps of one idle run."""
    total = {k: 0 for k in IDLE_KEYS}
    opened = failed = 0
    tails = []
    for name in args.files:
        with open(name, encoding="utf-8", errors="replace") as f:
            text = f.read()
        m = re.search(r"^idle_open=(\d+) idle_failed=(\d+)", text, re.M)
        if m:
            opened += int(m.group(1))
            failed += int(m.group(2))
        r = parse_json_in(text)
        if not isinstance(r, dict):
            tails.append("%s: no result" % name)
            continue
        for k in IDLE_KEYS:
            total[k] += int(r.get(k, 0))
    print("idle_open=%d idle_failed=%d" % (opened, failed))
    total["mode"] = "idle"
    total["steps"] = len(args.files)
    print(json.dumps(total, sort_keys=True))
    for t in tails:
        print(t, file=sys.stderr)
    return 0


def load_raw(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for ln in f:
            ln = ln.strip()
            if ln:
                runs.append(json.loads(ln))
    return runs


def load_counts(run):
    """(attempts, failures) of a load generator run, or None without JSON."""
    r = run.get("result")
    if not isinstance(r, dict):
        return None
    ok = int(r.get("ok_2xx", 0))
    bad = int(r.get("non_2xx", 0)) + int(r.get("errors", 0))
    return ok + bad, bad


def median_spread(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values), "values": values}


class Figure:
    """One figure of one path: the per-repetition values and the verdict."""

    def __init__(self):
        self.values = []
        self.attempts = 0
        self.failures = 0
        self.problems = []   # why a repetition gave no value
        self.notes = []

    def as_dict(self):
        d = {"attempts": self.attempts, "failures": self.failures}
        if self.attempts:
            d["error_rate"] = self.failures / self.attempts
        if self.failed():
            d["failed"] = self.why_failed()
        else:
            d.update(median_spread(self.values))
        if self.notes:
            d["notes"] = self.notes
        return d

    def failed(self):
        if self.attempts and self.failures / self.attempts > MAX_ERROR_RATE:
            return True
        return not self.values

    def why_failed(self):
        if self.attempts and self.failures / self.attempts > MAX_ERROR_RATE:
            return "%d of %d requests failed (%.2f%%)" % (
                self.failures, self.attempts, 100.0 * self.failures / self.attempts)
        return "; ".join(sorted(set(self.problems))) or "no result"


# Where the time went in a latency run (docs/benchmarks.md "Where the
# added latency goes"), per group of processes that mf_schedlat watched:
# group, its label.  Rows: name suffix, label, unit, format.
SCHED_GROUPS = [("agents", "agents' threads"), ("ksoftirqd", "ksoftirqd (softirq threads)"),
                ("load", "load generator"), ("origin", "origin")]
SCHED_ROWS = [
    ("rq_us_per_req", "run-queue wait per request (mean)", "µs", "{:.1f}"),
    ("waits_per_req", "wake-ups per request", "", "{:.2f}"),
    ("preempt_per_req", "preempted per request", "", "{:.3f}"),
    ("rq_p99_us", "run-queue wait per wake-up, p99", "µs", "{:.0f}"),
    ("rq_p999_us", "run-queue wait per wake-up, p99.9", "µs", "{:.0f}"),
    ("rq_max_us", "run-queue wait per wake-up, longest", "µs", "{:.0f}"),
    ("cpu_us_per_req", "on a CPU per request", "µs", "{:.1f}"),
]
# The machine's stalls over a latency run (cyclictest: a timer thread per
# CPU at the highest priority, waking every 10 ms), this path's run / its
# direct path's at the same rate.
STALL_ROWS = [
    ("stall_count", "machine: timer wake-ups 10 ms late or more, all CPUs (this run / "
     "its direct path's)", "{:.0f}"),
    ("stall_max_ms", "machine: latest timer wake-up (ms; this run / its direct path's)",
     "{:.1f}"),
]
# The agents' own loops, from their turn histograms.
LOOP_ROWS = [
    ("loop_us_per_req", "agents' loop turns (user code) per request", "µs", "{:.1f}"),
    ("turn_p99_us", "agents' loop turn, p99 (bucket edge)", "µs", "{:.0f}"),
    ("turn_max_us", "agents' loop turn, longest (bucket edge)", "µs", "{:.0f}"),
]


def sched_figures(fig, path, test, run, achieved):
    """The SCHED_ROWS and LOOP_ROWS figures of one latency run, when it has
    them."""
    sc, tu = run.get("sched"), run.get("turns")
    if not isinstance(sc, dict) or achieved <= 0:
        return
    reqs = achieved * float(sc.get("seconds", 0) or 0)
    if reqs <= 0:
        return
    vals = {}
    for g, _ in SCHED_GROUPS:
        a = sc.get(g)
        if not isinstance(a, dict):
            continue
        vals.update({g + "_rq_us_per_req": a["wait_ns"] / 1e3 / reqs,
                     g + "_waits_per_req": a["waits"] / reqs,
                     g + "_preempt_per_req": a["preempted"] / reqs,
                     g + "_rq_p99_us": a["wait_p99_ns"] / 1e3,
                     g + "_rq_p999_us": a["wait_p999_ns"] / 1e3,
                     g + "_rq_max_us": a["wait_max_ns"] / 1e3,
                     g + "_cpu_us_per_req": a["oncpu_ns"] / 1e3 / reqs})
    if isinstance(tu, dict) and tu.get("count", 0) > 0:
        vals["loop_us_per_req"] = tu["sum"] * 1e6 / reqs
        p99 = turn_quantile(tu, 0.99)
        mx = turn_quantile(tu, 1.0)
        if p99 is not None and p99 != float("inf"):
            vals["turn_p99_us"] = p99 * 1e6
        if mx is not None and mx != float("inf"):
            vals["turn_max_us"] = mx * 1e6
    for k, v in vals.items():
        fig(path, "%s_%s" % (test, k)).values.append(v)


def figures_of(runs):
    """path -> figure name -> Figure."""
    out = {p: {} for p in PATHS}

    def fig(path, name):
        return out.setdefault(path, {}).setdefault(name, Figure())

    for run in runs:
        path, test = run["path"], run["test"]
        if test == "crash":
            continue
        if test == "start":
            latency = run.get("phase") == 2
            for name, *_ in ROWS:
                if name.startswith("lat") == latency:
                    fig(path, name).problems.append("path did not start")
            continue
        if test in ("max", "newconn", "newconn_mtls", "lat25", "lat50"):
            counts = load_counts(run)
            names = {"max": ["max_rps", "cpu_us_per_req"],
                     "newconn": ["newconn_rps", "cpu_us_per_newconn"],
                     "newconn_mtls": ["mtls_rps", "cpu_us_per_mtls"],
                     "lat25": ["lat25_p50", "lat25_p99", "lat25_p999"],
                     "lat50": ["lat50_p50", "lat50_p99", "lat50_p999"]}[test]
            # meshforge L4 has no connection reuse to turn off: each of
            # its new connections is an mTLS handshake.
            if test == "newconn" and path == "meshforge":
                names = names + ["mtls_rps", "cpu_us_per_mtls"]
            if counts is None:
                for n in names:
                    fig(path, n).problems.append(
                        "no result from the load generator (exit %s)" % run.get("load_exit"))
                continue
            attempts, failures = counts
            r = run["result"]
            for n in names:
                f = fig(path, n)
                f.attempts += attempts
                f.failures += failures
            if not test.startswith("lat"):
                # Responses completed in the measured window, the one the
                # CPU time was sampled across.
                reqs = float(r.get("rps", 0)) * float(r.get("duration_s", 0))
                for rps_name, cpu_name in zip(names[0::2], names[1::2]):
                    fig(path, rps_name).values.append(float(r["rps"]))
                    if path not in DIRECT and reqs > 0 and "cpu_ticks" in run:
                        us = run["cpu_ticks"] * 1e6 / run.get("clk_tck", 100) / reqs
                        fig(path, cpu_name).values.append(us)
            else:
                lat = r.get("latency_us", {})
                target = float(r.get("target_rate", 0) or 0)
                achieved = float(r.get("achieved_rate", r.get("rps", 0)) or 0)
                for n, key in zip(names, ("p50", "p99", "p999")):
                    if key in lat:
                        fig(path, n).values.append(float(lat[key]))
                sched_figures(fig, path, test, run, achieved)
                if "stall_count" in run:
                    fig(path, test + "_stall_count").values.append(float(run["stall_count"]))
                    fig(path, test + "_stall_max_ms").values.append(
                        float(run["stall_max_us"]) / 1000.0)
                if target > 0 and achieved < SATURATED * target:
                    note = "saturated: %.0f of %.0f req/s" % (achieved, target)
                    for n in names:
                        fig(path, n).notes.append(note)
        elif test == "bulk":
            r = run.get("result") or {}
            f = fig(path, "bulk_mbps")
            f.attempts += 1
            ok = (run.get("curl_exit") == 0 and r.get("http_code") == 200 and
                  int(r.get("size_download", -1)) == run.get("expect_bytes"))
            if not ok:
                f.failures += 1
                f.problems.append("download failed (curl exit %s, http %s, %s bytes)" % (
                    run.get("curl_exit"), r.get("http_code"), r.get("size_download")))
            elif float(r.get("time_total", 0)) > 0:
                f.values.append(r["size_download"] / float(r["time_total"]) / 1e6)
        elif test == "synflood":
            secs = float(run.get("seconds", 0) or 0)
            if secs <= 0 or int(run.get("sent", 0)) <= 0:
                for n in ("syn_sent_pps", "syn_drop_pps"):
                    fig(path, n).problems.append("no flood was sent")
                continue
            fig(path, "syn_sent_pps").values.append(int(run["sent"]) / secs)
            fig(path, "syn_drop_pps").values.append(int(run["dropped"]) / secs)
        elif test == "rss_idle":
            fig(path, "rss_idle_kib").values.append(float(run["rss_kib"]))
        elif test == "idle":
            want = int(run.get("conns", 0))
            got = int(run.get("idle_open", 0))
            r = run.get("result")
            # Connections that stayed open to the end were open when the
            # RSS was sampled; a drop during the hold counts as a failure.
            if isinstance(r, dict) and "open_at_end" in r:
                got = min(got, int(r["open_at_end"]))
            f_open = fig(path, "rss_conns_kib")
            f_per = fig(path, "bytes_per_conn")
            for f in (f_open, f_per):
                f.attempts += want
                f.failures += max(0, want - got)
            if got <= 0 or run.get("rss_open_kib", 0) <= 0:
                for f in (f_open, f_per):
                    f.problems.append("idle connections did not open (exit %s%s)" % (
                        run.get("load_exit"),
                        ": " + run["stderr_tail"][-120:] if run.get("stderr_tail") else ""))
                continue
            f_open.values.append(float(run["rss_open_kib"]))
            f_per.values.append((run["rss_open_kib"] - run["rss_before_kib"]) * 1024.0 / got)
            # How much of the path each connection holds open: a check
            # that an L4 path really set up both ends of every connection.
            if "fds_open" in run:
                fig(path, "fds_per_conn").values.append(
                    (run["fds_open"] - run["fds_before"]) / float(got))
    return out


def rates(runs, base="direct"):
    f = figures_of(runs)[base].get("max_rps")
    if f is None or f.failed():
        return None
    m = statistics.median(f.values)
    return int(m * 0.25), int(m * 0.50)


def cmd_rates(args):
    r = rates(load_raw(args.raw), BASELINE.get(args.path, "direct"))
    if r is None:
        return 1
    print("%d %d" % r)
    return 0


# Figure name -> (row label, unit, format, better: "high" or "low").
ROWS = [
    ("max_rps", "max requests/s (keep-alive, 1 KiB)", "", "{:,.0f}", "high"),
    ("lat25_p50", "p50 latency at 25% load", "ms", "{:.3f}", "low"),
    ("lat25_p99", "p99 latency at 25% load", "ms", "{:.3f}", "low"),
    ("lat25_p999", "p99.9 latency at 25% load", "ms", "{:.3f}", "low"),
    ("lat50_p50", "p50 latency at 50% load", "ms", "{:.3f}", "low"),
    ("lat50_p99", "p99 latency at 50% load", "ms", "{:.3f}", "low"),
    ("lat50_p999", "p99.9 latency at 50% load", "ms", "{:.3f}", "low"),
    ("cpu_us_per_req", "proxy CPU per request (both nodes)", "µs", "{:.1f}", "low"),
    ("newconn_rps", "new connections/s (1 request each)", "", "{:,.0f}", "high"),
    ("cpu_us_per_newconn", "proxy CPU per new connection", "µs", "{:.1f}", "low"),
    ("mtls_rps", "new mTLS connections/s (a handshake each)", "", "{:,.0f}", "high"),
    ("cpu_us_per_mtls", "proxy CPU per new mTLS connection", "µs", "{:.1f}", "low"),
    ("bulk_mbps", "100 MiB download", "MB/s", "{:,.0f}", "high"),
    ("rss_idle_kib", "proxy RSS idle (both nodes)", "MiB", "{:.1f}", "low"),
    ("rss_conns_kib", "proxy RSS with idle connections", "MiB", "{:.1f}", "low"),
    ("bytes_per_conn", "memory per idle connection", "KiB", "{:.1f}", "low"),
    ("fds_per_conn", "proxy descriptors per idle connection", "", "{:.2f}", "low"),
    ("syn_sent_pps", "SYN flood: SYNs sent/s", "", "{:,.0f}", "high"),
    ("syn_drop_pps", "SYN flood: SYNs dropped/s in XDP", "", "{:,.0f}", "high"),
]
SCALE = {"ms": 1e-3, "MiB": 1 / 1024.0, "KiB": 1 / 1024.0}


def cell(fig, unit, fmt, reps=0, with_spread=True):
    if fig is None:
        return "—"
    if fig.failed():
        return "**failed**: " + fig.why_failed()
    s = SCALE.get(unit, 1.0)
    v = statistics.median(fig.values) * s
    txt = fmt.format(v)
    if with_spread and len(fig.values) > 1:
        txt += " (%s..%s)" % (fmt.format(min(fig.values) * s), fmt.format(max(fig.values) * s))
    if reps and len(fig.values) < reps:
        txt += " [%d of %d runs]" % (len(fig.values), reps)
    errs = ""
    if fig.failures:
        errs = " [%d err]" % fig.failures
    notes = ""
    if fig.notes:
        notes = " *" + sorted(set(fig.notes))[0] + "*"
    return txt + errs + notes


def med(figs, path, name):
    f = figs.get(path, {}).get(name)
    if f is None or f.failed():
        return None
    return statistics.median(f.values)


def ratio_cell(a, b):
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return ("%.2fx" if r >= 0.1 else "%.2gx") % r


def saturated(figs, path, name):
    f = figs.get(path, {}).get(name)
    return f is not None and any(n.startswith("saturated") for n in f.notes)


def machine(agent=None):
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            info["cpu"] = m.group(1).strip() if m else "unknown"
        with open("/proc/meminfo", encoding="utf-8") as f:
            m = re.search(r"^MemTotal:\s*(\d+) kB", f.read(), re.M)
            info["memory_gib"] = round(int(m.group(1)) / 1048576.0, 1) if m else None
    except OSError:
        pass

    def version(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "unknown"

    info["nginx"] = version(["nginx", "-v"])
    info["haproxy"] = version(["haproxy", "-v"])
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    info["meshforge"] = version(["git", "-C", top, "describe", "--always", "--dirty"])
    if agent:
        try:
            with open(agent, "rb") as f:
                info["agent_sha256"] = hashlib.sha256(f.read()).hexdigest()[:16]
        except OSError:
            pass
    return info


def cmd_report(args):
    runs = load_raw(args.raw)
    figs = figures_of(runs)
    r = rates(runs)
    info = machine(args.agent)
    present = [p for p in PATHS if any(run["path"] == p for run in runs)]
    reps = max([run["rep"] for run in runs] or [0])

    res = {"machine": info, "command": args.command, "seconds": args.seconds,
           "repetitions": reps, "rates": {"lat25": r[0], "lat50": r[1]} if r else None,
           "paths": {p: {n: f.as_dict() for n, f in figs[p].items()} for p in present},
           "settings": args.settings}

    md = []
    md.append("Machine: %s, %s CPUs, %s GiB, kernel %s; %s; %s; meshforge %s (agent %s)." % (
        info.get("cpu"), info.get("nproc"), info.get("memory_gib"), info.get("kernel"),
        info.get("nginx"), info.get("haproxy"), info.get("meshforge"),
        info.get("agent_sha256", "?")))
    md.append("")
    md.append("Command: `%s` (%s s, %d repetitions per figure, interleaved; median (min..max))."
              % (args.command, args.seconds, reps))
    if args.settings:
        md.append("Settings: %s." % args.settings)
    if r:
        md.append("Fixed rates for the latency rows: %d and %d requests/s (25%% and 50%% of "
                  "the direct path's median maximum)." % r)
    for base in ("local-direct", "host-direct"):
        rb = rates(runs, base) if base in present else None
        if rb:
            md.append("For the paths measured over %s: %d and %d requests/s." % (
                (LABEL[base],) + rb))
    md.append("")
    head = ["figure"] + [LABEL[p] for p in present]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "---|" * len(head))
    for name, label, unit, fmt, _ in ROWS:
        row = [label + (" (%s)" % unit if unit else "")]
        for p in present:
            if p in DIRECT and name in ("cpu_us_per_req", "cpu_us_per_newconn", "mtls_rps",
                                          "cpu_us_per_mtls", "rss_idle_kib", "rss_conns_kib",
                                          "bytes_per_conn", "fds_per_conn"):
                row.append("n/a (no proxy)")
            else:
                row.append(cell(figs[p].get(name), unit, fmt, reps))
        md.append("| " + " | ".join(row) + " |")
    md.append("")
    crashes = [run for run in runs if run["test"] == "crash"]
    for run in crashes:
        md.append("**%s: a proxy process (pid %s) exited during repetition %d**; "
                  "that repetition's figures are suspect." % (
                      LABEL.get(run["path"], run["path"]), run.get("pid"), run["rep"]))
    if crashes:
        md.append("")
    res["crashes"] = [{"path": r["path"], "rep": r["rep"], "pid": r.get("pid")} for r in crashes]

    # Ratios of the medians, each meshforge path over each other path.
    ratios = {}
    for mfp, compare in (("meshforge", ("direct", "nginx", "haproxy")),
                         ("meshforge-free", ("direct", "meshforge")),
                         ("meshforge-2loops", ("meshforge",)),
                         ("meshforge-strict", ("meshforge",)),
                         ("meshforge-synflood", ("meshforge",)),
                         ("meshforge-l7", ("direct", "meshforge", "nginx", "haproxy")),
                         ("meshforge-l7-policy", ("meshforge-l7",)),
                         ("meshforge-sockmap", ("meshforge",)),
                         ("meshforge-local", ("local-direct",)),
                         ("meshforge-local-sockmap", ("local-direct", "meshforge-local")),
                         ("meshforge-frontdoor", ("host-direct", "meshforge-local"))):
        others = [p for p in compare if p in present]
        if mfp not in present or not others:
            continue
        md.append("| %s ratio | " % LABEL[mfp] + " | ".join("/ " + LABEL[p] for p in others) + " |")
        md.append("|---|" + "---|" * len(others))
        for name, label, unit, fmt, better in ROWS:
            row = [label + (" (%s better)" % ("higher" if better == "high" else "lower"))]
            a = med(figs, mfp, name)
            for p in others:
                rt = ratio_cell(a, med(figs, p, name))
                if rt != "—":
                    key = name if mfp == "meshforge" else mfp + ":" + name
                    ratios.setdefault(key, {})[p] = float(rt[:-1])
                    # A ratio against a queue says little about the path.
                    sat = [LABEL[q] for q in (mfp, p) if saturated(figs, q, name)]
                    if sat:
                        rt += " (%s saturated)" % " and ".join(sat)
                row.append(rt)
            md.append("| " + " | ".join(row) + " |")
        md.append("")
    res["ratios"] = ratios

    # The goals of the issue, met or not, from the same medians.
    goals = []
    mf, ng, hp = (med(figs, p, "max_rps") for p in ("meshforge", "nginx", "haproxy"))
    if mf and ng:
        goals.append(("max requests/s >= 1.2x nginx", "%.2fx" % (mf / ng), mf >= 1.2 * ng))
    if mf and hp:
        goals.append(("max requests/s >= 1.0x HAProxy", "%.2fx" % (mf / hp), mf >= hp))
    mp, dp = med(figs, "meshforge", "lat25_p99"), med(figs, "direct", "lat25_p99")
    if mp is not None and dp is not None:
        added = (mp - dp) / 1000.0
        goals.append(("p99 added over direct at 25% load <= 0.2 ms", "%+.3f ms" % added,
                      added <= 0.2))
    bpc = med(figs, "meshforge", "bytes_per_conn")
    if bpc is not None:
        goals.append(("memory per idle mTLS connection <= 20 KiB", "%.1f KiB" % (bpc / 1024),
                      bpc <= 20 * 1024))
    if goals:
        md.append("| goal | meshforge L4 | met |")
        md.append("|---|---|---|")
        for g, v, ok in goals:
            md.append("| %s | %s | %s |" % (g, v, "yes" if ok else "**no**"))
        md.append("")
    res["goals"] = [{"goal": g, "value": v, "met": ok} for g, v, ok in goals]

    # The L7 engine's goals: against the proxy pairs, which are HTTP proxies
    # too, with their upstream reuse on as meshforge's pool is.
    goals7 = []
    l7, l7cpu, l7new = (med(figs, "meshforge-l7", n)
                        for n in ("max_rps", "cpu_us_per_req", "newconn_rps"))
    if l7 and ng:
        goals7.append(("max requests/s >= 1.5x nginx", "%.2fx" % (l7 / ng), l7 >= 1.5 * ng))
    if l7cpu is not None:
        goals7.append(("CPU per request, both agents <= 20 us", "%.1f us" % l7cpu,
                       l7cpu <= 20))
    for p in ("nginx", "haproxy"):
        other = med(figs, p, "newconn_rps")
        if l7new and other:
            goals7.append(("new connections/s >= 1.0x %s (reuse on)" % LABEL[p],
                           "%.2fx" % (l7new / other), l7new >= other))
    if goals7:
        md.append("| goal | meshforge L7 | met |")
        md.append("|---|---|---|")
        for g, v, ok in goals7:
            md.append("| %s | %s | %s |" % (g, v, "yes" if ok else "**no**"))
        md.append("")
    res["goals_l7"] = [{"goal": g, "value": v, "met": ok} for g, v, ok in goals7]

    # The same-node fast path's goals: with it against without, one run.
    goalsf = []
    fon, foff = med(figs, "meshforge-local-sockmap", "max_rps"), med(figs, "meshforge-local", "max_rps")
    if fon and foff:
        goalsf.append(("max requests/s >= 1.3x without", "%.2fx" % (fon / foff), fon >= 1.3 * foff))
    for t in ("lat25", "lat50"):
        pon, poff = (med(figs, p, t + "_p99") for p in ("meshforge-local-sockmap", "meshforge-local"))
        if pon is not None and poff is not None:
            goalsf.append(("p99 at %s%% load lower than without" % t[3:],
                           "%.3f / %.3f ms" % (pon / 1000.0, poff / 1000.0), pon < poff))
    if goalsf:
        md.append("| goal | meshforge same node + sockmap | met |")
        md.append("|---|---|---|")
        for g, v, ok in goalsf:
            md.append("| %s | %s | %s |" % (g, v, "yes" if ok else "**no**"))
        md.append("")
    res["goals_sockmap"] = [{"goal": g, "value": v, "met": ok} for g, v, ok in goalsf]

    # Where the added latency goes: run-queue waits and CPU time of the
    # agents, the softirq threads, the load generator and the origin, and
    # the agents' loop turns, across each latency run.
    spaths = [p for p in present if any(n.startswith("lat25_agents_") for n in figs[p])]
    if spaths:
        md.append("Where the added latency goes (across each latency run: mf_schedlat on "
                  "the processes named, and the agents' loop-turn histograms):")
        md.append("")
        head = ["figure"] + ["%s %s" % (LABEL[p], t) for p in spaths
                             for t in ("25%", "50%")]
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "---|" * len(head))
        row = ["client p99 added over its direct path (ms)"]
        for p in spaths:
            for t in ("lat25", "lat50"):
                a, d = med(figs, p, t + "_p99"), med(figs, BASELINE.get(p, "direct"), t + "_p99")
                row.append("%+.3f" % ((a - d) / 1000.0) if a is not None and d is not None
                           else "—")
        md.append("| " + " | ".join(row) + " |")
        rows = [(g + "_" + suffix, glabel + ": " + label, unit, fmt)
                for g, glabel in SCHED_GROUPS for suffix, label, unit, fmt in SCHED_ROWS]

        def measured(name):
            return any(t + "_" + name in figs[p] for p in spaths for t in ("lat25", "lat50"))

        for name, label, unit, fmt in rows + LOOP_ROWS:
            if not measured(name):
                continue
            row = [label + (" (%s)" % unit if unit else "")]
            for p in spaths:
                for t in ("lat25", "lat50"):
                    row.append(cell(figs[p].get(t + "_" + name), unit, fmt, reps))
            md.append("| " + " | ".join(row) + " |")
        # The machine's own stalls (cyclictest), beside those of the same
        # run on the path's direct path: a host that stops the CPUs stops
        # every path, but a path that keeps them busier meets it more.
        for name, label, fmt in STALL_ROWS:
            if not measured(name):
                continue
            row = [label]
            for p in spaths:
                for t in ("lat25", "lat50"):
                    a = med(figs, p, t + "_" + name)
                    d = med(figs, BASELINE.get(p, "direct"), t + "_" + name)
                    row.append("%s / %s" % (fmt.format(a) if a is not None else "—",
                                            fmt.format(d) if d is not None else "—"))
            md.append("| " + " | ".join(row) + " |")
        md.append("")

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write("\n")
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(md))

    # chart.dat for tests/bench/chart.gp: one line per path; "?" = missing.
    cols = [("max_rps", 1.0), ("lat25_p99", 1e-3), ("lat50_p99", 1e-3),
            ("newconn_rps", 1.0), ("cpu_us_per_req", 1.0), ("bytes_per_conn", 1 / 1024.0),
            ("mtls_rps", 1.0), ("bulk_mbps", 1.0)]
    with open(os.path.join(args.out, "chart.dat"), "w", encoding="utf-8") as f:
        f.write("# path " + " ".join("%s_med %s_min %s_max" % (c, c, c) for c, _ in cols) + "\n")
        for p in present:
            vals = []
            for c, s in cols:
                fg = figs[p].get(c)
                if fg is None or fg.failed():
                    vals += ["?", "?", "?"]
                else:
                    vals += ["%.6g" % (statistics.median(fg.values) * s),
                             "%.6g" % (min(fg.values) * s), "%.6g" % (max(fg.values) * s)]
            f.write('"%s" %s\n' % (LABEL[p], " ".join(vals)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("record")
    a.add_argument("--path", required=True)
    a.add_argument("--test", required=True)
    a.add_argument("--rep", type=int, required=True)
    a.add_argument("--result", default="")
    a.add_argument("extra", nargs="*")
    a = sub.add_parser("idle-sum")
    a.add_argument("files", nargs="+")
    a = sub.add_parser("rates")
    a.add_argument("raw")
    a.add_argument("--path", default="direct")
    a = sub.add_parser("report")
    a.add_argument("raw")
    a.add_argument("--out", required=True)
    a.add_argument("--seconds", type=int, default=0)
    a.add_argument("--command", default="make bench")
    a.add_argument("--settings", default="")
    a.add_argument("--agent", default="", help="the agent binary measured")
    args = ap.parse_args()
    return {"record": cmd_record, "idle-sum": cmd_idle_sum, "rates": cmd_rates,
            "report": cmd_report}[args.cmd](args) or 0


if __name__ == "__main__":
    sys.exit(main())
