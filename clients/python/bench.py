#!/usr/bin/env python3
"""Throughput of the Python client at N streams x K tokens/message, saturated, over the
package's public API, next to `streamtag bench e2e` at the same shape in the same sitting.

    python clients/python/bench.py --bin .build/release/streamtag --compare

It starts `streamtag serve` (the same settings as `bench e2e`'s child daemon) on free loopback
ports, keeps `--window` messages unanswered per stream (bench e2e's default: about 4,096 in
total, 2 to 256 per stream), counts the final tags received in `--duration` seconds after
`--warmup`, checks every stream's positions (0, 1, 2, ... once each, tokens echoed), and reports
the median of `--runs` runs. With `--compare` it then runs `streamtag bench e2e --json` with the
same streams, tokens per message, window, duration and runs, and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from streamtag_client import Client, Tag

WORDS = ("the of and to a in is you that it he was for on are as with his they I at be this have "
         "from or one had by word but not what all were we when your can said there use an each "
         "which she do how their if will up other about out many then them these so some her "
         "would make like him into time has look two more write go see number no way could "
         "people my than first water been call who oil its now find long down day did get come "
         "made may part").split()


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def start_daemon(binary, directory):
    ports = free_ports(3)
    endpoints = [f"tcp://127.0.0.1:{p}" for p in ports]
    config = Path(directory) / "streamtag.yaml"
    config.write_text(
        f'input:\n  bind: "{endpoints[0]}"\noutput:\n  bind: "{endpoints[1]}"\ncontrol:\n  bind: "{endpoints[2]}"\n'
        f'metrics:\n  listen: ""\nmodel:\n  watch: false\nsnapshot_interval: 0\n'
        f'state_dir: "{directory}/state"\nlog_level: warning\n')
    log = open(Path(directory) / "daemon.log", "wb")
    process = subprocess.Popen([binary, "serve", "--config", str(config)], stdout=log, stderr=log,
                               stdin=subprocess.DEVNULL)
    return process, endpoints


def run_once(client, run, streams, tokens, window, warmup, duration):
    prefix = f"pybench/{run}."
    opened = [client.stream(f"{prefix}{n}") for n in range(streams)]
    expected = [0] * streams
    cursor = [n * 7 % len(WORDS) for n in range(streams)]
    problems = 0
    counted = 0
    start = time.monotonic()
    measure_from, measure_to = start + warmup, start + warmup + duration
    measuring = False
    while True:
        now = time.monotonic()
        if now >= measure_to:
            break
        if not measuring and now >= measure_from:
            measuring, counted = True, 0
        for n, stream in enumerate(opened):
            while stream.pending < window:
                c = cursor[n]
                stream.send([WORDS[(c + j) % len(WORDS)] for j in range(tokens)])
                cursor[n] = c + tokens
        client.poll(0.001)
        for n, stream in enumerate(opened):
            for item in stream.take():
                if type(item) is Tag:
                    if item.i != expected[n] or item.token != WORDS[(n * 7 + item.i) % len(WORDS)]:
                        problems += 1
                    expected[n] = item.i + 1
                    counted += 1
                else:
                    problems += 1
    elapsed = time.monotonic() - max(measure_from, start)
    for stream in opened:                    # drain, then leave the daemon empty
        stream.end()
    for stream in opened:
        stream.collect(timeout=60)
        stream.close()
    return counted / elapsed, problems


def bench_e2e(binary, streams, tokens, window, duration, warmup, runs):
    args = [binary, "bench", "e2e", "--streams", str(streams), "--tokens-per-message", str(tokens),
            "--window", str(window), "--duration", str(duration), "--warmup", str(warmup),
            "--runs", str(runs), "--no-paced", "--idle-streams", "0", "--json"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    found = []

    def walk(x):
        if isinstance(x, dict):
            if "saturated_tags_per_s" in x:
                found.append(x["saturated_tags_per_s"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(json.loads(out[out.index("{"):]))
    return found[0]


def isa():
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    names = sorted({w for w in flags.split() if w.startswith("avx512") or w == "avx2"})
    return " ".join(names) or "no avx2"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("STREAMTAG_BIN", ".build/release/streamtag"))
    p.add_argument("--streams", type=int, default=100)
    p.add_argument("--tokens-per-message", type=int, default=8)
    p.add_argument("--window", type=int, help="unanswered messages per stream (default as bench e2e)")
    p.add_argument("--duration", type=float, default=3.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--compare", action="store_true", help="also run `streamtag bench e2e` at the same shape")
    a = p.parse_args()
    window = a.window or max(2, min(256, 4096 // a.streams))
    rates, problems = [], 0
    with tempfile.TemporaryDirectory() as directory:
        process, (inp, out, ctl) = start_daemon(a.bin, directory)
        try:
            with Client(inp, out, ctl, prefix="pybench/", window=window) as client:
                client.wait_ready(timeout=60)
                for run in range(a.runs):
                    rate, bad = run_once(client, run, a.streams, a.tokens_per_message, window, a.warmup, a.duration)
                    rates.append(rate)
                    problems += bad
        finally:
            process.terminate()
            process.wait(60)
    python_rate = statistics.median(rates)
    result = {"streams": a.streams, "tokens_per_message": a.tokens_per_message, "window": window,
              "python_tags_per_s": round(python_rate), "python_runs_tags_per_s": [round(r) for r in rates],
              "problems": problems, "isa": isa(), "python": sys.version.split()[0]}
    line = (f"python client: {a.streams} streams x {a.tokens_per_message} tokens/message, window {window}: "
            f"{python_rate:,.0f} tags/s (runs {', '.join(f'{r:,.0f}' for r in rates)}), problems {problems}")
    if a.compare:
        e2e = bench_e2e(a.bin, a.streams, a.tokens_per_message, window, a.duration, a.warmup, a.runs)
        result["bench_e2e_tags_per_s"] = e2e
        result["ratio"] = round(python_rate / e2e, 3)
        line += f"; bench e2e {e2e:,.0f} tags/s; ratio {python_rate / e2e:.2f}"
    print(line + f" [{result['isa']}]")
    print(json.dumps(result))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
