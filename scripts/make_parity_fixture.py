#!/usr/bin/env python3
"""Builds the PyTorch parity fixtures of Tests/StreamTagCoreTests/Fixtures (docs/model-format.md#pytorch-parity).

For each cell (LSTM 2 layers, GRU 1 layer, RNN tanh 2 layers, RNN relu 1 layer) it builds
nn.Embedding(23, 6) -> nn.LSTM/GRU/RNN(6, 8, batch_first=True) -> nn.Linear(8, 5) with seeded
random weights and biases, writes it as a streamtag model file (parity-CELL.safetensors), runs
a few token sequences through the PyTorch module and records the per-position scores (the
Linear outputs) in parity-CELL.json. ParityTests.swift loads both and checks that streamtag's
scores match PyTorch's within 1e-4. CI has no torch: it only reads the committed files.

Rerun (from the repository root):
    pip install torch   # or, where reachable, the smaller CPU wheel:
                        # pip install torch --index-url https://download.pytorch.org/whl/cpu
    python3 scripts/make_parity_fixture.py [--out Tests/StreamTagCoreTests/Fixtures]

The committed fixture was produced with torch 2.15.0 (wheel 2.15.0+cu132, run on the CPU;
Python 3.11); the version is also recorded in each JSON file and in the models' `training`
metadata. The safetensors file is written here with plain `struct`/`json` (no safetensors
package needed); if the `safetensors` package is installed, each file is also read back with it
as a cross-check of the format.
"""

import argparse
import hashlib
import json
import os
import struct

import torch
from torch import nn

V, E, H, C = 23, 6, 8, 5
VOCAB = ["<unk>"] + [f"w{i}" for i in range(1, V)]
TAGS = ["NOUN", "VERB", "DET", "ADJ", "PUNCT"]
CELLS = [  # (streamtag cell name, layers)
    ("lstm", 2),
    ("gru", 1),
    ("rnn_tanh", 2),
    ("rnn_relu", 1),
]
# Words outside VOCAB ("cat", "W3", "zebra") must map to index 0, as streamtag does.
SEQUENCES = [
    ["w3", "w17", "cat", "w1", "w22"],
    ["W3", "w5", "w5"],
    ["w12", "zebra", "w8", "w2", "w19", "w4", "w11"],
]


class Tagger(nn.Module):
    def __init__(self, cell, layers):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        if cell == "lstm":
            self.rnn = nn.LSTM(E, H, num_layers=layers, batch_first=True)
        elif cell == "gru":
            self.rnn = nn.GRU(E, H, num_layers=layers, batch_first=True)
        else:
            nonlinearity = "tanh" if cell == "rnn_tanh" else "relu"
            self.rnn = nn.RNN(E, H, num_layers=layers, nonlinearity=nonlinearity, batch_first=True)
        self.head = nn.Linear(H, C)

    def forward(self, ids):
        out, _ = self.rnn(self.embedding(ids))
        return self.head(out)


def safetensors_bytes(tensors, metadata):
    """Safetensors layout: u64 LE header length, JSON header (sorted keys, space padded to 8),
    then every tensor's F32 little-endian bytes, back to back."""
    header = {"__metadata__": metadata}
    data = bytearray()
    for name, t in tensors:
        flat = t.detach().to(torch.float32).contiguous().reshape(-1).tolist()
        raw = struct.pack(f"<{len(flat)}f", *flat)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + bytes(data)


def build(cell, layers, seed, out_dir):
    torch.manual_seed(seed)
    model = Tagger(cell, layers)
    # Every parameter random and non-zero (biases included), wider than PyTorch's default
    # initialisation so that gates and relu units actually move.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("embedding"):
                p.uniform_(-0.8, 0.8)
            else:
                p.uniform_(-0.5, 0.5)
    model.eval()

    name = f"parity-{cell}"
    config = {"cell": cell, "layers": layers, "embedding_dim": E, "hidden_dim": H,
              "lookahead": 0, "lowercase": False, "features": []}
    metadata = {
        "format": "streamtag/1",
        "name": name,
        "config": json.dumps(config),
        "vocab": json.dumps(VOCAB),
        "tags": json.dumps(TAGS),
        "training": json.dumps({"generator": "scripts/make_parity_fixture.py", "torch": torch.__version__, "seed": seed}),
    }
    # PyTorch's own parameter names are the file's tensor names (docs/model-format.md#pytorch-parity).
    blob = safetensors_bytes(list(model.state_dict().items()), metadata)
    path = os.path.join(out_dir, f"{name}.safetensors")
    with open(path, "wb") as f:
        f.write(blob)

    index = {w: i for i, w in enumerate(VOCAB)}
    sequences = []
    with torch.no_grad():
        for tokens in SEQUENCES:
            ids = [index.get(t, 0) for t in tokens]
            scores = model(torch.tensor([ids]))[0]  # [T, C] float32
            sequences.append({"tokens": tokens, "ids": ids, "scores": scores.tolist()})
    fixture = {
        "model": f"{name}.safetensors",
        "sha256": hashlib.sha256(blob).hexdigest(),
        "cell": cell,
        "layers": layers,
        "torch": torch.__version__,
        "sequences": sequences,
    }
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        # Python floats of float32 values print exactly (shortest round-trip repr).
        json.dump(fixture, f, indent=1)
        f.write("\n")
    cross_check(path, model)
    return path


def cross_check(path, model):
    try:
        from safetensors.torch import load_file
        from safetensors import safe_open
    except ImportError:
        return
    loaded = load_file(path)
    for name, t in model.state_dict().items():
        assert torch.equal(loaded[name], t), name
    with safe_open(path, framework="pt") as f:
        assert f.metadata()["format"] == "streamtag/1"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "Tests", "StreamTagCoreTests", "Fixtures"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    for seed, (cell, layers) in enumerate(CELLS, start=1):
        path = build(cell, layers, seed, args.out)
        print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
