#!/usr/bin/env bash
# Retrains the built-in model (UPOS, UD English-EWT) exactly as the committed one was made,
# then installs it as the package's embedded model. Needs ../shared/data (not in the repo).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/ud-english-ewt}
OUT=${OUT:-Sources/CStreamTagDefaultModel/default-model.safetensors}
swift build -c release --product streamtag
.build/release/streamtag train \
  --train "$DATA/en_ewt-ud-train.conllu" --dev "$DATA/en_ewt-ud-dev.conllu" \
  --name en-ewt-upos --lookahead 2 --epochs 20 --patience 5 --seed 1 \
  --feature prefix1:1024 prefix2:4096 suffix1:1024 suffix2:4096 suffix3:4096 suffix4:4096 shape:1024 lower:8192 \
  --dtype f16 --out "$OUT"
# The model is linked in with .incbin: make the assembler run again.
touch Sources/CStreamTagDefaultModel/default_model.S
