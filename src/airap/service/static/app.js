// airap one-click page: no framework, no CDN.
const $ = (id) => document.getElementById(id);
let timings = null;

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
  $("flow").innerHTML = b.flows.map((f) => `<option value="${f.name}">${f.name}</option>`).join("");
}

let countTimer = null;
function liveCounts() {
  clearTimeout(countTimer);
  countTimer = setTimeout(async () => {
    const lyrics = $("lyrics").value;
    if (!lyrics.trim()) { $("counts").textContent = ""; $("line-counts").innerHTML = ""; return; }
    try {
      const a = await api("/v1/analyze", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ lyrics }) });
      $("counts").textContent = `— ${a.lines.length} lines, ${a.syllables} syllables`;
      $("line-counts").innerHTML = a.lines.map((l) =>
        `<li>${l.syllables} syl · rhyme “${l.rhyme}”${l.rhymes_with_others ? " ✓" : ""}</li>`).join("");
    } catch (e) { $("counts").textContent = `— ${e.message}`; $("line-counts").innerHTML = ""; }
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
  $("timeline").innerHTML = timings.lines.map((line) => `<span class="line">` + line.words.map((w) =>
    `<span data-start="${w.start}" data-end="${w.end}">${w.text}</span>`).join(" ") + `</span>`).join("");
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
      fd.append("instrumental", file);
      res = await api("/v1/jobs", { method: "POST", body: fd });
    } else {
      res = await api("/v1/jobs", { method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ lyrics: $("lyrics").value, voice: voice || undefined, beat: $("beat").value,
          bpm: +$("bpm").value, flow: $("flow").value }) });
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
loadLists().then(liveCounts).catch((e) => { $("status").textContent = `error: ${e.message}`; });
