/// The live page served at `GET /` by the gateway: one self-contained HTML file (no CDN, no
/// build step). It opens `ws://HOST/v1/streams/ID` (a fresh id per page, `?stream=` to choose,
/// `?token=` forwarded for authentication), sends each word as it is typed, shows every token
/// provisional (faded) then final, colored by tag, with the probability on hover and the
/// latency of each answer, and replays a sample text at a chosen rate.
///
/// `?text=…&auto=1` makes the page send that text itself (one message per word, each line
/// then ended; `&end=0` leaves the last line open) and mark `<body data-done="1">` when a
/// stream has ended: the browser test loads it in
/// headless Chromium with `--dump-dom` and reads the tags from the DOM.
enum LivePage {
    static let bytes: [UInt8] = Array(html.utf8)

    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>streamtag live</title>
<style>
:root{--bg:#f7f7f5;--fg:#1d1d1f;--muted:#6b6b70;--card:#fff;--line:#e3e3df}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:baseline;gap:16px;padding:14px 24px;border-bottom:1px solid var(--line);background:var(--card)}
header h1{font-size:18px;margin:0}header .meta{color:var(--muted);font-size:13px}
#status{margin-left:auto;font-size:13px}#status.up{color:#1a7f37}#status.down{color:#b42318}
main{display:grid;grid-template-columns:1fr 280px;gap:20px;padding:20px 24px;max-width:1200px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
textarea{width:100%;min-height:64px;font:inherit;border:1px solid var(--line);border-radius:8px;padding:8px;resize:vertical}
.row{display:flex;gap:8px;align-items:center;margin-top:8px;flex-wrap:wrap}
button{font:inherit;font-size:14px;padding:5px 12px;border-radius:7px;border:1px solid #c9c9c4;background:#fff;cursor:pointer}
button.primary{background:#1d1d1f;color:#fff;border-color:#1d1d1f}
input[type=number]{width:70px;font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:6px}
.hint{color:var(--muted);font-size:12px}
#lines{margin-top:14px;min-height:120px}
.line{display:flex;flex-wrap:wrap;gap:6px 4px;padding:8px 0;border-bottom:1px dashed var(--line)}
.tok{display:inline-flex;flex-direction:column;align-items:center;padding:2px 6px 3px;border-radius:6px;border:1px solid transparent;transition:opacity .25s,background .25s}
.tok .w{font-size:16px}.tok .t{font-size:10.5px;font-weight:600;letter-spacing:.04em}
.tok.prov{opacity:.45;border-style:dashed}.tok.final{opacity:1}
.tok.pending{opacity:.3;background:#eee}
.legend span{display:inline-block;margin:2px;padding:0 5px;border-radius:4px;font-size:11px;font-weight:600}
table{width:100%;border-collapse:collapse;font-size:12.5px}td,th{text-align:left;padding:2px 4px;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:500}#stats{font-size:13px;margin-bottom:8px}
#log{font-size:12px;color:var(--muted);max-height:120px;overflow:auto;margin-top:8px}
</style></head>
<body>
<header><h1>streamtag live</h1><span class="meta">model <b id="model">…</b></span><span class="meta">stream <code id="stream"></code></span><span id="status">connecting…</span></header>
<main>
<section class="card">
<textarea id="text" placeholder="Type or paste text: each word is sent when you finish it (space); Enter ends the sentence."></textarea>
<div class="row"><button class="primary" id="send">Send</button><button id="end">End sentence</button>
<span style="margin-left:auto"></span><button id="replay">Replay sample</button>
<label class="hint">at <input type="number" id="rate" value="8" min="1" max="1000"> tokens/s</label></div>
<div class="hint" style="margin-top:6px">Faded, dashed: provisional tag (still in the lookahead window). Solid: final. Hover a token for its probability.</div>
<div id="lines"></div>
</section>
<aside class="card"><div id="stats">answers <b id="answers">0</b> · last latency <b id="last">–</b> · median <b id="median">–</b></div>
<table><thead><tr><th>seq</th><th>tokens</th><th>final</th><th>latency</th></tr></thead><tbody id="lat"></tbody></table>
<div class="legend" id="legend" style="margin-top:10px"></div><div id="log"></div></aside>
</main>
<script>
"use strict";
const q = new URLSearchParams(location.search);
const SAMPLE = "I booked a flight to Boston for next Tuesday , but the airline cancelled it . Can you send me the report by Friday ? The quick brown fox jumps over the lazy dog .";
const PALETTE = {NOUN:"#2f6fdf",PROPN:"#7b3fe4",VERB:"#d9480f",AUX:"#e8590c",ADJ:"#2b8a3e",ADV:"#5c940d",PRON:"#c2255c",DET:"#0b7285",
  ADP:"#1098ad",NUM:"#a61e4d",CCONJ:"#862e9c",SCONJ:"#6741d9",PART:"#e67700",INTJ:"#f08c00",PUNCT:"#868e96",SYM:"#495057",X:"#343a40"};
function color(tag){ if(PALETTE[tag]) return PALETTE[tag]; let h=0; for(const c of tag) h=(h*31+c.charCodeAt(0))>>>0; return `hsl(${h%360} 60% 40%)`; }
const streamId = q.get("stream") || "live-" + Math.random().toString(36).slice(2, 10);
document.getElementById("stream").textContent = streamId;
const proto = location.protocol === "https:" ? "wss:" : "ws:";
const url = `${proto}//${location.host}/v1/streams/${encodeURIComponent(streamId)}` + (q.get("token") ? `?token=${encodeURIComponent(q.get("token"))}` : "");
let ws, seq = 0, cur = null, segOf = new Map(), sentAt = new Map(), lats = [], answers = 0, queue = [], seen = new Set();
function newSeg(){ const line = document.createElement("div"); line.className = "line"; document.getElementById("lines").appendChild(line); return {line, toks: new Map()}; }
function log(text){ const d=document.createElement("div"); d.textContent=text; const l=document.getElementById("log"); l.prepend(d); }
function tokenEl(seg, i, word){
  let el = seg.toks.get(i);
  if(!el){ el=document.createElement("span"); el.className="tok pending"; el.dataset.i=i;
    el.innerHTML='<span class="w"></span><span class="t">&nbsp;</span>'; el.querySelector(".w").textContent=word; seg.line.appendChild(el); seg.toks.set(i, el); }
  return el;
}
function show(seg, t, final){
  const el = tokenEl(seg, t.i, t.token);
  if(el.classList.contains("final")) return;
  el.className = "tok " + (final ? "final" : "prov"); el.dataset.tag = t.tag; el.dataset.p = t.p;
  const c = color(t.tag); el.style.background = c + (final ? "1f" : "12"); el.style.borderColor = c + "55";
  const tl = el.querySelector(".t"); tl.textContent = t.tag; tl.style.color = c;
  el.title = `${t.token}: ${t.tag}  p=${t.p.toFixed(4)}  (${final ? "final" : "provisional"}, position ${t.i})`;
  if(!seen.has(t.tag)){ seen.add(t.tag); const s=document.createElement("span"); s.textContent=t.tag; s.style.background=c+"22"; s.style.color=c; document.getElementById("legend").appendChild(s); }
}
let nextPos = 0;
function send(tokens, end){
  if(!ws || ws.readyState !== 1){ queue.push([tokens, end]); return; }
  if(!cur) cur = newSeg();
  for(const w of tokens) tokenEl(cur, nextPos++, w);
  segOf.set(seq, cur);
  sentAt.set(seq, performance.now());
  ws.send(JSON.stringify({seq: seq++, tokens, end: !!end}));
  if(end){ nextPos = 0; cur = null; }
}
function onMessage(ev){
  const m = JSON.parse(ev.data);
  if(m.type === "tags"){
    answers++; document.getElementById("model").textContent = m.model;
    const seg = segOf.get(m.seq) || cur || (cur = newSeg()); segOf.delete(m.seq);
    for(const t of m.tags) show(seg, t, true);
    for(const t of (m.partial || [])) show(seg, t, false);
    const t0 = sentAt.get(m.seq); sentAt.delete(m.seq);
    if(t0 !== undefined){ const ms = performance.now() - t0; lats.push(ms);
      const s=[...lats].sort((a,b)=>a-b); document.getElementById("last").textContent = ms.toFixed(1)+" ms";
      document.getElementById("median").textContent = s[Math.floor(s.length/2)].toFixed(1)+" ms";
      const tr=document.createElement("tr"); tr.innerHTML=`<td>${m.seq}</td><td>${m.tags.length+(m.partial||[]).length}</td><td>${m.tags.length}</td><td>${ms.toFixed(1)} ms</td>`;
      const tb=document.getElementById("lat"); tb.prepend(tr); while(tb.children.length>12) tb.lastChild.remove(); }
    document.getElementById("answers").textContent = answers;
  } else if(m.event === "end"){
    if(q.get("auto")) document.body.dataset.done = "1";
  } else if(m.event === "model"){ document.getElementById("model").textContent = m.to; log(`model: ${m.from} → ${m.to}`);
  } else { log(`${m.event}${m.code ? " " + m.code : ""}${m.message ? ": " + m.message : ""}`); if(m.event==="error") document.body.dataset.error = m.code; }
}
function connect(){
  ws = new WebSocket(url);
  ws.onopen = () => { const s=document.getElementById("status"); s.textContent="connected"; s.className="up";
    const pending = queue; queue = []; for(const [t,e] of pending) send(t,e); };
  ws.onmessage = onMessage;
  ws.onclose = (e) => { const s=document.getElementById("status"); s.textContent=`closed (${e.code}${e.reason ? ": "+e.reason : ""})`; s.className="down"; };
}
const text = document.getElementById("text");
let sentUpTo = 0;
function flushTyped(all, end){
  const v = text.value; const upTo = all ? v.length : Math.max(v.lastIndexOf(" "), v.lastIndexOf("\t")) + 1;
  if(upTo <= sentUpTo && !end) return;
  const words = v.slice(sentUpTo, Math.max(upTo, sentUpTo)).split(/\s+/).filter(Boolean);
  sentUpTo = Math.max(upTo, sentUpTo);
  if(words.length || end) send(words, end);
}
text.addEventListener("input", () => { if(text.value.length < sentUpTo) sentUpTo = 0; flushTyped(false, false); });
text.addEventListener("keydown", (e) => { if(e.key === "Enter" && !e.shiftKey){ e.preventDefault(); flushTyped(true, true); text.value=""; sentUpTo=0; } });
document.getElementById("send").onclick = () => flushTyped(true, false);
document.getElementById("end").onclick = () => { flushTyped(true, true); text.value=""; sentUpTo=0; };
document.getElementById("replay").onclick = () => {
  const words = SAMPLE.split(" "); const rate = Math.max(1, +document.getElementById("rate").value || 8); let n = 0;
  const timer = setInterval(() => { if(n >= words.length){ clearInterval(timer); send([], true); return; }
    const w = words[n++]; send([w], false); if(w === "." || w === "?") send([], true); }, 1000 / rate);
};
connect();
if(q.get("auto") && q.get("text")){
  // One sentence per line, each ended; `end=0` leaves the last one open (its tail provisional).
  const lines = q.get("text").split("\n").map(l => l.split(/\s+/).filter(Boolean)).filter(l => l.length);
  lines.forEach((words, n) => { for(const w of words) send([w], false); if(n < lines.length - 1 || q.get("end") !== "0") send([], true); });
}
</script>
</body></html>
"""#
}
