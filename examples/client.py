# A streamtag client in raw pyzmq: publishes stdin (one message per line) as one stream, prints
# the tags. The reference for other languages: docs/protocol.md#reference-client.
import json, sys, time, zmq
ctx = zmq.Context()
stream = sys.argv[1] if len(sys.argv) > 1 else "py-client"
sub = ctx.socket(zmq.SUB); sub.connect("tcp://127.0.0.1:5561")      # tags and events out
sub.setsockopt_string(zmq.SUBSCRIBE, stream); sub.setsockopt_string(zmq.SUBSCRIBE, "$sys")
pub = ctx.socket(zmq.PUB); pub.connect("tcp://127.0.0.1:5560")      # tokens in
while True:  # wait for a heartbeat: then our subscription has reached the daemon
    topic, body = sub.recv_multipart()
    if topic == b"$sys" and json.loads(body).get("event") == "heartbeat": break
time.sleep(0.05)                                                     # and the input connection too
lines = [line.split() for line in sys.stdin if line.strip()] or [[]]
for seq, tokens in enumerate(lines):
    pub.send_multipart([stream.encode(), json.dumps({"seq": seq, "tokens": tokens, "end": seq == len(lines) - 1}).encode()])
while True:
    topic, body = sub.recv_multipart()
    if topic != stream.encode(): continue                           # topics match by prefix
    msg = json.loads(body)
    for t in msg.get("tags", []): print(t["i"], t["token"], t["tag"], t["p"])
    if msg.get("event") in ("end", "evicted", "error"): break
