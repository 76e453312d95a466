#!/usr/bin/env bash
# Retrains the built-in model (UPOS, UD English-EWT) exactly as the committed one was made,
# then installs it as the package's embedded model. Needs ../shared/data (not in the repo),
# and the Debian packages wordnet-base (WordNet 3.0, for --wordnet) and wamerican (the word
# list for --names), which it installs when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/ud-english-ewt}
OUT=${OUT:-Sources/CStreamTagDefaultModel/default-model.safetensors}

APT_PACKAGES="wordnet-base wamerican"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi

swift build -c release --product streamtag
.build/release/streamtag train \
  --train "$DATA/en_ewt-ud-train.conllu" --dev "$DATA/en_ewt-ud-dev.conllu" \
  --name en-ewt-upos --lookahead 2 --epochs 16 --patience 5 --seed 1 \
  --schedule cosine --selection mean --next-tag-weight 1.0 --first-head-weight 1.0 --word-dropout 0.2 \
  --feature prefix1:128 suffix1:128 suffix3:4096 suffix4:4096 shape:1024 lower:8192 ngram3:8192 \
  --wordnet /usr/share/wordnet --names /usr/share/dict/words \
  --dtype f16 --out "$OUT"
# The model is linked in with .incbin: make the assembler run again.
touch Sources/CStreamTagDefaultModel/default_model.S
