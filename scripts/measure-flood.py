#!/usr/bin/env python3
"""Memory cap and stop time of `streamtag serve` under hostile load
(docs/concepts.md#streams-batching-persistence). Starts the daemon (built-in model) on free
loopback ports, then either

  --mode flood    N new stream ids, one 1-token message each, as fast as one thread sends
                  them, with streams.max_state_bytes (default 32 MiB);
  --mode backlog  S streams x M tokens queued at once (messages of 400 tokens);

waits --wait seconds, reports answered / overloaded, open streams, state_bytes, pending
tokens (what a stop saves as input), RSS, then SIGTERMs it and reports the stop time, the exit
status, the daemon's snapshot log lines and the snapshot's size.

    pip install pyzmq
    swift build -c release --product streamtag
    scripts/measure-flood.py --mode flood --ids 80000
    scripts/measure-flood.py --mode backlog --streams 100 --tokens 80000
"""
import argparse, json, os, re, socket, subprocess, tempfile, threading, time, urllib.request
import zmq

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default=".build/release/streamtag")
ap.add_argument("--mode", choices=["flood", "backlog"], default="flood")
ap.add_argument("--ids", type=int, default=80000)
ap.add_argument("--streams", type=int, default=100)
ap.add_argument("--tokens", type=int, default=80000)
ap.add_argument("--max-state-bytes", default="32MiB")
ap.add_argument("--wait", type=float, default=25)
ap.add_argument("--set", action="append", default=[])
args = ap.parse_args()

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

ports = [free_port() for _ in range(4)]
state = tempfile.mkdtemp(prefix="streamtag-flood-")
cmd = [args.binary, "serve", "--set", f"input.bind=tcp://127.0.0.1:{ports[0]}",
       "--set", f"output.bind=tcp://127.0.0.1:{ports[1]}", "--set", f"control.bind=tcp://127.0.0.1:{ports[2]}",
       "--set", f"metrics.listen=127.0.0.1:{ports[3]}", "--set", f"state_dir={state}",
       "--set", f"streams.max_state_bytes={args.max_state_bytes}", "--set", "snapshot_interval=0"]
for s in args.set: cmd += ["--set", s]
log = open(os.path.join(state, "log"), "w+")
daemon = subprocess.Popen(cmd, stderr=log, stdout=subprocess.DEVNULL)

ctx = zmq.Context()
pub = ctx.socket(zmq.PUB); pub.setsockopt(zmq.SNDHWM, 0); pub.connect(f"tcp://127.0.0.1:{ports[0]}")
sub = ctx.socket(zmq.SUB); sub.setsockopt(zmq.RCVHWM, 0); sub.setsockopt(zmq.SUBSCRIBE, b"")
sub.connect(f"tcp://127.0.0.1:{ports[1]}")
while True:                                       # the join signal
    if not sub.poll(1000):
        if daemon.poll() is not None: raise SystemExit(f"the daemon exited ({daemon.returncode}); its log: {log.name}")
        continue
    topic, body = sub.recv_multipart()
    if topic == b"$sys" and b"heartbeat" in body: break

counts = {"tags": 0, "overloaded": 0, "evicted": 0, "other": 0}
stop_reading = threading.Event()
def reader():
    poller = zmq.Poller(); poller.register(sub, zmq.POLLIN)
    while not stop_reading.is_set():
        if not poller.poll(100): continue
        while True:
            try: topic, body = sub.recv_multipart(zmq.NOBLOCK)
            except zmq.Again: break
            if topic == b"$sys": continue
            m = json.loads(body)
            if m.get("type") == "tags": counts["tags"] += 1
            elif m.get("code") == "overloaded": counts["overloaded"] += 1
            elif m.get("event") == "evicted": counts["evicted"] += 1
            else: counts["other"] += 1
threading.Thread(target=reader, daemon=True).start()

start = time.time()
if args.mode == "flood":
    for i in range(args.ids):
        pub.send_multipart([f"flood-{i}".encode(), json.dumps({"seq": 1, "tokens": ["word"]}).encode()])
    sent = args.ids
else:
    words = ["the", "cat", "sat", "on", "a", "mat", "."]
    msg = [words[i % 7] for i in range(400)]
    sent = 0
    for n in range(args.tokens // 400):
        for s in range(args.streams):
            pub.send_multipart([f"b{s}".encode(), json.dumps({"seq": n + 1, "tokens": msg}).encode()])
            sent += 1
send_seconds = time.time() - start
time.sleep(max(0, args.wait - send_seconds))

def metric(text, name):
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None
text = urllib.request.urlopen(f"http://127.0.0.1:{ports[3]}/metrics").read().decode()
rss = int(re.search(r"VmRSS:\s+(\d+)", open(f"/proc/{daemon.pid}/status").read()).group(1)) // 1024
print(f"mode {args.mode}: sent {sent} messages in {send_seconds:.1f} s; after {time.time() - start:.1f} s:")
print(f"  answered {counts['tags']}, overloaded {counts['overloaded']}, evicted {counts['evicted']}")
print(f"  streams {metric(text, 'streamtag_streams'):.0f}, state_bytes {metric(text, 'streamtag_state_bytes'):.0f},"
      f" pending_tokens {metric(text, 'streamtag_pending_tokens')}, RSS {rss} MB")
t0 = time.time()
daemon.terminate()
status = daemon.wait(timeout=120)
print(f"  SIGTERM -> exit {status} in {time.time() - t0:.2f} s")
stop_reading.set()
log.seek(0)
for line in log:
    if "snapshot written" in line or "snapshot failed" in line or "stopping" in line: print("  " + line.strip()[:200])
size = os.path.getsize(os.path.join(state, "snapshot.bin")) if os.path.exists(os.path.join(state, "snapshot.bin")) else 0
print(f"  snapshot {size} bytes")
