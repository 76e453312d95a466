#!/usr/bin/env python3
"""Swap pause and reload-to-new-model time of `streamtag serve` under load, with the built-in
model's size: starts the daemon on free loopback ports serving a copy of the built-in model,
feeds N streams of 8-token messages from one thread, reloads every 0.5 s alternating two files
(the same weights under two names, so two ids) renamed into place, then ends every stream and
checks that every token got exactly one final tag, positions in order.

    pip install pyzmq
    swift build -c release --product streamtag
    scripts/measure-reload.py [--streams 1000] [--rate 40000] [--reloads 10]
"""
import argparse, json, os, shutil, socket, struct, subprocess, tempfile, threading, time
import zmq

ap = argparse.ArgumentParser()
ap.add_argument("--binary", default=".build/release/streamtag")
ap.add_argument("--model", default="Sources/CStreamTagDefaultModel/default-model.safetensors")
ap.add_argument("--streams", type=int, default=1000)
ap.add_argument("--rate", type=int, default=40000, help="tokens/s offered")
ap.add_argument("--reloads", type=int, default=10)
args = ap.parse_args()

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def renamed(src, dst, name):
    """The model file with another name in its metadata (same length: the header keeps its size)."""
    data = open(src, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = data[8:8 + n].replace(b'"name":"en-ewt-upos"', b'"name":"' + name.encode() + b'"')
    assert len(header) == n, "name must keep the header length"
    open(dst, "wb").write(data[:8] + header + data[8 + n:])

work = tempfile.mkdtemp(prefix="streamtag-reload-")
served = os.path.join(work, "model.safetensors")
renamed(args.model, os.path.join(work, "a"), "en-ewt-upos")
renamed(args.model, os.path.join(work, "b"), "en-ewt-upob")
shutil.copy(os.path.join(work, "a"), served)
ports = [free_port() for _ in range(3)]
ep = [f"tcp://127.0.0.1:{p}" for p in ports]
daemon = subprocess.Popen([args.binary, "serve", "--model", served, "--set", f"input.bind={ep[0]}",
                           "--set", f"output.bind={ep[1]}", "--set", f"control.bind={ep[2]}",
                           "--set", "metrics.listen=", "--set", "model.watch=false",
                           "--set", f"state_dir={work}/state", "--set", "log_level=warning"])
ctx = zmq.Context()
sub = ctx.socket(zmq.SUB); sub.setsockopt(zmq.RCVHWM, 0); sub.connect(ep[1]); sub.setsockopt(zmq.SUBSCRIBE, b"")
pub = ctx.socket(zmq.PUB); pub.setsockopt(zmq.SNDHWM, 0); pub.connect(ep[0])
while True:
    topic, body = sub.recv_multipart()
    if topic == b"$sys" and json.loads(body).get("event") == "heartbeat": break

words = "the cat sat on a mat and we saw it run to Boston in May".split()
streams = [f"r{i}" for i in range(args.streams)]
positions = {s: [] for s in streams}
ends = set()
stop = threading.Event()

def receive():
    while len(ends) < len(streams):
        if not sub.poll(30000): print("timed out waiting for output"); break
        topic, body = sub.recv_multipart()
        m = json.loads(body)
        if m.get("type") == "tags": positions[topic.decode()] += [t["i"] for t in m["tags"]]
        elif m.get("event") == "end": ends.add(topic.decode())

sent = {s: 0 for s in streams}
def produce():
    seq, interval = 0, 8 * len(streams) / args.rate
    while not stop.is_set():
        started = time.monotonic()
        for s in streams:
            pub.send_multipart([s.encode(), json.dumps({"seq": seq, "tokens": words[:8]}).encode()])
            sent[s] += 8
        seq += 1
        time.sleep(max(0, interval - (time.monotonic() - started)))
    for s in streams:
        pub.send_multipart([s.encode(), json.dumps({"seq": seq, "tokens": [], "end": True}).encode()])

receiver = threading.Thread(target=receive); receiver.start()
producer = threading.Thread(target=produce); producer.start()
req = ctx.socket(zmq.REQ); req.connect(ep[2])
time.sleep(1.0)
pauses, waits = [], []
for n in range(args.reloads):
    os.replace(shutil.copy(os.path.join(work, "ab"[(n + 1) % 2]), os.path.join(work, "next")), served)
    started = time.monotonic()
    req.send_json({"cmd": "reload"}); answer = req.recv_json()
    waits.append((time.monotonic() - started) * 1000)
    assert answer.get("ok") and answer.get("changed"), answer
    pauses.append(answer["pause_ms"])
    time.sleep(0.5)
stop.set(); producer.join(); receiver.join()
daemon.terminate(); daemon.wait(30)
shutil.rmtree(work, ignore_errors=True)
bad = [s for s in streams if positions[s] != list(range(sent[s]))]
print(f"{args.streams} streams, {args.rate} tokens/s offered, {args.reloads} reloads")
print(f"swap pause (longest worker switch) ms: median {sorted(pauses)[len(pauses) // 2]:.3f}, max {max(pauses):.3f}")
print(f"ctl reload round trip (read, check, test inference, swap) ms: median {sorted(waits)[len(waits) // 2]:.0f}, max {max(waits):.0f}")
print(f"tokens {sum(sent.values())}, streams with missing/duplicate/out-of-order tags: {len(bad)}")
raise SystemExit(1 if bad else 0)
