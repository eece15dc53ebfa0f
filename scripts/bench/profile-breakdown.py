#!/usr/bin/env python3
"""Splits a `perf record -g` profile of the gateway into per-request CPU by stage.

  scripts/bench/profile-breakdown.py PERF_DATA REQUESTS [SERVER_CPU_SECONDS]

Each stage is the inclusive share of samples under the functions named below (demangled Swift
names, matched as substrings), turned into microseconds of CPU per request with the server's
measured CPU time (without it, the samples' count over the sampling rate, 999 Hz, as
`perf record -F 999` takes them). Stages can overlap a little: the Swift side of
the claim and of the insert also appears under "SQL statements"; "other" is what no stage
claims (the Swift runtime, task scheduling and wake-ups, middleware frames). `BENCH_PROFILE=1 scripts/bench.sh` runs it after each replay.
"""
import subprocess, sys

STAGES = [
    # (stage, thread filter or None, substrings of demangled symbols; inclusive shares add up)
    ("HTTP read, parse and write (event loops, whole threads)", "NIO-SGLTN", ["@thread"]),
    ("request context, router and middleware glue", "oot.default-qos", ["RouterResponder.respond", "InitializableFromSource.init(source:)"]),
    ("auth: headers, key cache, body hash, HMAC", "oot.default-qos", ["RequestSigning.isValid", "RequestSigning.bodyHash", "APIKeyCache.key"]),
    ("nonce + rate counter (Swift side of the claim)", "oot.default-qos", ["RequestLedger.record", "RequestLedger.write"]),
    ("parse and validate the body", "oot.default-qos", ["CreateCheckoutIntentRequest.parse"]),
    ("FX rate and store lookup", "oot.default-qos", ["RateService.currentRate", "ExpiringCache.value"]),
    ("build the intent, checkout link (seal)", "oot.default-qos", ["IntentFactory.makeIntent", "CheckoutLinks.issue"]),
    ("insert + outbox rows (Swift side: SQL and binds)", "oot.default-qos", ["CheckoutIntentRepository.insert", "NotificationRecorder.intentsCreated"]),
    ("status read (Swift side)", "oot.default-qos", ["CheckoutIntentRepository.status"]),
    ("SQL statements, Swift side (SQLKit serialize, binds, rows; all)", "oot.default-qos", ["SQLiteSQLDatabase.execute", "PostgresSQLDatabase.execute"]),
    ("encode the JSON envelope", "oot.default-qos", ["Envelope.success", "Envelope.response"]),
    ("logging", "oot.default-qos", ["Logger.subscript.setter", "LogHandler.subscript.setter", "Logger.log"]),
    ("database writer thread: SQL parse (prepare)", "TP-#0", ["sqlite3Prepare"]),
    ("database writer thread: commit (WAL write, fsync, checkpoint)", "TP-#0", ["vdbeCommit", "sqlite3WalDefaultHook"]),
    ("database reader threads (whole threads)", "TP-#1", ["@thread"]),
]


def report(data, comm):
    args = ["perf", "report", "-i", data, "--children", "--sort", "sym", "-g", "none", "-q"]
    if comm:
        args += ["--comm", comm]
    text = subprocess.run(args, capture_output=True, text=True).stdout
    demangled = subprocess.run(["swift", "demangle", "--simplified"], input=text, capture_output=True, text=True).stdout
    rows = []
    for line in demangled.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].endswith("%"):
            rows.append((float(parts[0][:-1]), parts[3]))
    return rows


def main():
    data, requests = sys.argv[1], int(sys.argv[2])
    if len(sys.argv) > 3:
        cpu = float(sys.argv[3])
    else:
        header = subprocess.run(["perf", "report", "-i", data, "--stdio", "--sort", "comm", "-g", "none", "-n", "-q"],
                                capture_output=True, text=True).stdout
        cpu = sum(int(line.split()[2]) for line in header.splitlines() if line.strip() and line.split()[0].endswith("%")) / 999
    per_request_us = cpu / requests * 1e6
    comms = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "comm", "-g", "none", "-q"],
                           capture_output=True, text=True).stdout
    threads = {}
    for line in comms.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith("%"):
            threads[parts[1]] = float(parts[0][:-1])
    cache = {}
    claimed = 0.0
    claimed_by_thread = {}
    print(f"{'stage':<76} {'µs/request':>10} {'share':>6}")
    for name, comm, needles in STAGES:
        key = comm or ""
        if key not in cache and needles != ["@thread"]:
            # Thread names are prefixes (NIO-SGLTN-0-#0, TP-#0 …): take every thread that matches.
            names = [t for t in threads if t.startswith(comm)] if comm else [None]
            cache[key] = [row for t in names for row in report(data, t)]
        share = 0.0
        if needles == ["@thread"]:
            share = sum(pct for t, pct in threads.items() if t.startswith(comm))
            needles = []
        for needle in needles:
            # The largest inclusive share among symbols matching this needle (its outermost frame).
            matches = [pct for pct, sym in cache[key] if needle in sym]
            share += max(matches) if matches else 0.0
        claimed += share
        claimed_by_thread[comm] = claimed_by_thread.get(comm, 0.0) + share
        print(f"{name:<76} {share / 100 * per_request_us:>10.0f} {share:>5.1f}%")
    for comm, label in [("oot.default-qos", "Swift tasks: the rest (runtime, allocation, scheduling, middleware)"),
                        ("TP-#0", "database writer thread: the rest (rows into tables and indexes, hand-offs)")]:
        rest = sum(pct for t, pct in threads.items() if t.startswith(comm)) - claimed_by_thread.get(comm, 0.0)
        claimed += rest
        print(f"{label:<76} {rest / 100 * per_request_us:>10.0f} {rest:>5.1f}%")
    print(f"{'other threads':<76} {(100 - claimed) / 100 * per_request_us:>10.0f} {100 - claimed:>5.1f}%")
    print(f"{'total server CPU':<76} {per_request_us:>10.0f}  ({requests} requests, {cpu:.2f} s CPU)")


main()
