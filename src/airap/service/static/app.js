// airap one-click page: no framework, no CDN.
const $ = (id) => document.getElementById(id);
let timings = null;
let lastJob = null;  // the last finished generated-beat job of this tab (its takes are reused by an edit)

// A server started with AIRAP_API_KEY wants the key on every /v1 call. The page asks for it once
// (kept for this tab only); result and preview links come back signed, so <audio> needs no header.
const KEY = "airap-api-key";

async function api(path, opts = {}) {
  const key = sessionStorage.getItem(KEY);
  const headers = { ...(opts.headers || {}), ...(key ? { "x-api-key": key } : {}) };
  const r = await fetch(path, { ...opts, headers });
  const body = await r.json().catch(() => ({}));
  if (r.status === 401) {
    $("key-row").hidden = false;
    throw new Error("this server needs an API key: enter it above");
  }
  if (!r.ok) throw new Error((body.error && body.error.message) || r.statusText);
  return body;
}

$("key-save").onclick = () => {
  sessionStorage.setItem(KEY, $("api-key").value.trim());
  $("key-row").hidden = true;
  loadLists().then(liveCounts).catch((e) => { $("status").textContent = `error: ${e.message}`; });
};

const esc = (t) => String(t).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
let voice = null;

function pickVoice(name) {
  voice = name;
  $("voice-name").textContent = name;
  for (const card of document.querySelectorAll(".voice-card")) {
    card.setAttribute("aria-checked", card.dataset.name === name ? "true" : "false");
  }
}

function filterCast(lang) {
  for (const b of document.querySelectorAll("#lang-filter button")) b.classList.toggle("on", b.dataset.lang === lang);
  for (const card of document.querySelectorAll(".voice-card")) {
    card.hidden = lang !== "" && !card.dataset.langs.split(" ").includes(lang);
  }
}

async function loadLists() {
  const voices = await api("/v1/voices");
  $("cast").innerHTML = voices.map((v) => `
    <div class="voice-card" role="radio" tabindex="0" data-name="${esc(v.name)}" data-langs="${esc(v.languages.join(" "))}">
      <button type="button" class="play" aria-label="play ${esc(v.name)}" data-preview="${esc(v.preview)}">▶</button>
      <strong>${esc(v.name)}</strong> <small>${esc(v.languages.join(" · "))} · ${esc(v.tags.join(", "))}</small>
      <p>${esc(v.description)}</p>
    </div>`).join("");
  for (const card of document.querySelectorAll(".voice-card")) {
    card.onclick = () => pickVoice(card.dataset.name);
    card.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); pickVoice(card.dataset.name); } };
  }
  for (const play of document.querySelectorAll(".voice-card .play")) {
    play.onclick = (e) => {
      e.stopPropagation();
      pickVoice(play.parentElement.dataset.name);
      const a = $("preview-audio");
      a.src = play.dataset.preview;
      a.play().catch(() => {});
    };
  }
  for (const b of document.querySelectorAll("#lang-filter button")) b.onclick = () => filterCast(b.dataset.lang);
  $("voice-name").textContent = "auto (the lyrics' language picks a native voice)";
  const b = await api("/v1/beats");
  $("beat").innerHTML = b.beats.map((s) => `<option value="${s.name}">${s.name}</option>`).join("");
  const styles = Object.fromEntries(b.beats.map((s) => [s.name, s]));
  const describe = () => {
    const s = styles[$("beat").value];
    $("beat-about").textContent = s ? `${s.description} (${s.bpm_range[0]}–${s.bpm_range[1]} BPM)` : "";
  };
  $("beat").onchange = () => {
    describe();
    const s = styles[$("beat").value];
    if (s) $("bpm").value = s.default_bpm;
  };
  describe();
  $("beat-play").onclick = () => {
    const a = $("preview-audio");
    a.src = styles[$("beat").value].preview;
    a.play().catch(() => {});
  };
  $("flow").innerHTML = b.flows.map((f) => `<option value="${f.name}">${f.name}</option>`).join("");
}

// Live rhyme view: the analysis colours rhyme groups behind the lyrics box (end rhymes by scheme letter,
// rhymes inside a line underlined), puts the letters in the margin and suggests rhymes for a line end.
const PALETTE = ["#f5c51855", "#4fc3f755", "#ef535055", "#66bb6a55", "#ab47bc55", "#ff7f5055", "#26a69a55",
  "#ec407a55"];
let countTimer = null;
let analysis = null;

function paintLyrics() {
  const text = $("lyrics").value;
  if (!analysis) { $("lyrics-backdrop").textContent = text; return; }
  const shared = new Set(analysis.lines.filter((l) => l.rhymes_with_others).map((l) => l.scheme));
  const colour = (letter) => PALETTE[(letter.charCodeAt(0) - 65) % PALETTE.length];
  let k = 0;
  const out = text.split("\n").map((raw) => {
    const line = analysis.lines[k];
    if (!line || !raw.trim() || /^\s*\[.*\]\s*$/.test(raw)) return esc(raw);
    const at = raw.indexOf(line.text);
    if (at < 0) { k++; return esc(raw); }
    const marks = [];
    if (line.end_span && shared.has(line.scheme)) marks.push([line.end_span[0], line.end_span[1], "end", colour(line.scheme)]);
    for (const g of line.groups) for (const [a, b] of g.spans) marks.push([a, b, "inner", ""]);
    marks.sort((x, y) => x[0] - y[0]);
    let html = esc(raw.slice(0, at)), pos = 0;
    for (const [a, b, kind, bg] of marks) {
      if (a < pos) continue;
      html += esc(line.text.slice(pos, a));
      html += `<mark class="${kind}" style="background:${bg || "transparent"}">${esc(line.text.slice(a, b))}</mark>`;
      pos = b;
    }
    html += esc(line.text.slice(pos)) + esc(raw.slice(at + line.text.length));
    k++;
    return html;
  });
  $("lyrics-backdrop").innerHTML = out.join("\n") + "\n";
}

async function showRhymes(word) {
  try {
    const r = await api(`/v1/rhymes?word=${encodeURIComponent(word)}`);
    $("rhymes").innerHTML = `<strong>${esc(word)}</strong> ${esc(r.rhyme)}: ` + (r.rhymes.length
      ? r.rhymes.map((s) => `<span class="chip ${s.kind}" title="${s.kind}">${esc(s.text)}</span>`).join(" ")
      : "no common rhymes") + (r.notes.length ? ` <em>${esc(r.notes.join(" "))}</em>` : "");
  } catch (e) { $("rhymes").textContent = e.message; }
}

function liveCounts() {
  paintLyrics();
  clearTimeout(countTimer);
  countTimer = setTimeout(async () => {
    const lyrics = $("lyrics").value;
    if (!lyrics.trim()) { analysis = null; $("counts").textContent = ""; $("line-counts").innerHTML = ""; paintLyrics(); return; }
    try {
      const a = await api("/v1/analyze", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ lyrics, flow: $("flow").value || undefined, bpm: +$("bpm").value || undefined }) });
      analysis = a;
      $("counts").textContent = `— ${a.lines.length} lines, ${a.syllables} syllables · scheme ${a.scheme} · ` +
        `rhyme density ${Math.round(a.density * 100)}%`;
      $("line-counts").innerHTML = a.lines.map((l, i) =>
        `<li><b class="letter">${esc(l.scheme)}</b> ${l.syllables} syl · ` +
        `<button type="button" class="secondary rhyme-end" data-line="${i}">${esc(l.rhyme || "?")}</button>` +
        `${l.rhymes_with_others ? " ✓" : ""}` +
        (l.fits ? "" : ` <span class="warn">needs ${l.bars} bars — try ${esc(l.fitting_flows.join(", ") || "shorter lines")}</span>`) +
        "</li>").join("");
      for (const b of document.querySelectorAll(".rhyme-end")) {
        const line = a.lines[+b.dataset.line];
        const word = line.end_span ? line.text.slice(line.end_span[0], line.end_span[1]) : line.text.split(/\s+/).pop();
        b.onclick = () => showRhymes(word);
      }
    } catch (e) { analysis = null; $("counts").textContent = `— ${e.message}`; $("line-counts").innerHTML = ""; }
    paintLyrics();
  }, 300);
}

async function drawWave(url) {
  const buf = await (await fetch(url)).arrayBuffer();
  const ctx = new (window.AudioContext || window.webkitAudioContext)();
  const audio = await ctx.decodeAudioData(buf);
  const data = audio.getChannelData(0);
  const c = $("wave"), g = c.getContext("2d");
  const w = c.width, h = c.height, step = Math.max(1, Math.floor(data.length / w));
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#f5c518";
  for (let x = 0; x < w; x++) {
    let peak = 0;
    for (let i = x * step; i < (x + 1) * step && i < data.length; i++) peak = Math.max(peak, Math.abs(data[i]));
    g.fillRect(x, h / 2 - peak * h / 2, 1, Math.max(1, peak * h));
  }
  if (timings) {  // syllable ticks under the waveform
    g.fillStyle = "#4af";
    const dur = audio.duration;
    for (const line of timings.lines) for (const word of line.words) for (const s of word.syllables)
      g.fillRect(s.vowel_onset / dur * w, h - 8, 2, 8);
  }
}

function buildTimeline() {
  // a sung word shows its notes (hover) and a note mark; an accented one is bold
  const notes = (w) => w.syllables.map((s) => s.note).filter(Boolean).join(" ");
  const hit = (w) => w.syllables.some((s) => s.accent >= 0.5);
  $("timeline").innerHTML = timings.lines.map((line) => `<span class="line">` + line.words.map((w) =>
    `<span data-start="${w.start}" data-end="${w.end}"` + (notes(w) ? ` class="sung" title="${notes(w)}"` : hit(w) ? ` class="hit"` : "")
    + `>${w.text}</span>`).join(" ") + `</span>`).join("");
}

$("player").addEventListener("timeupdate", () => {
  const t = $("player").currentTime;
  for (const el of document.querySelectorAll("#timeline span[data-start]")) {
    el.classList.toggle("on", t >= +el.dataset.start && t < +el.dataset.end + 0.05);
  }
});

$("go").onclick = async () => {
  $("go").disabled = true;
  $("status").textContent = "submitting…";
  $("progress").hidden = false;
  $("progress").value = 0;
  try {
    let res;
    const file = $("upload").files[0];
    if (file) {
      const fd = new FormData();
      fd.append("lyrics", $("lyrics").value);
      if (voice) fd.append("voice", voice);
      fd.append("flow", $("flow").value);
      if ($("sing-hooks").checked) fd.append("sing_hooks", "true");
      if ($("intro-bars").value !== "") fd.append("intro_bars", $("intro-bars").value);  // empty: where the drums come in
      fd.append("instrumental", file);
      res = await api("/v1/jobs", { method: "POST", body: fd });
    } else {
      // an edit of the last song names it: the server re-sings only the lines that changed
      const body = { lyrics: $("lyrics").value, voice: voice || undefined, beat: $("beat").value,
        bpm: +$("bpm").value, flow: $("flow").value, sing_hooks: $("sing-hooks").checked,
        previous: lastJob || undefined };
      const post = (b) => api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify(b) });
      res = await post(body).catch((e) => {
        if (!lastJob || !e.message.startsWith("previous")) throw e;
        lastJob = null;  // it expired: render in full
        return post({ ...body, previous: undefined });
      });
    }
    let job;
    for (;;) {
      job = await api(`/v1/jobs/${res.id}`);
      $("progress").value = job.progress || 0;
      $("status").textContent = job.status === "queued" ? `queued (position ${job.queue_position ?? 0})`
        : `${job.status}: ${job.stage || ""}`;
      if (job.status === "done" || job.status === "failed") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (job.status === "failed") throw new Error(job.error ? job.error.message : "render failed");
    if (!file) lastJob = job.id;
    timings = await (await fetch(job.files["timings.json"])).json();
    $("result").hidden = false;
    $("player").src = job.files["mix.mp3"] || job.files["mix.wav"];
    buildTimeline();
    $("downloads").innerHTML = Object.entries(job.files).map(([n, u]) => `<a href="${u}" download>${n}</a>`).join(" · ");
    $("status").textContent = `done: ${job.duration.toFixed(1)} s` + (job.warnings.length ? ` (${job.warnings.join("; ")})` : "");
    drawWave(job.files["mix.wav"]).catch(() => {});
  } catch (e) {
    $("status").textContent = `error: ${e.message}`;
  } finally {
    $("go").disabled = false;
    $("progress").hidden = true;
  }
};

$("lyrics").addEventListener("input", liveCounts);
$("lyrics").addEventListener("scroll", () => { $("lyrics-backdrop").scrollTop = $("lyrics").scrollTop; });
$("flow").addEventListener("change", liveCounts);
$("bpm").addEventListener("change", liveCounts);
loadLists().then(liveCounts).catch((e) => { $("status").textContent = `error: ${e.message}`; });
