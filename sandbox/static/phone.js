/* The GridLine sandbox phone, in the browser. It talks only to the sandbox's JSON API (sandbox/api.py):
 * polls the chosen line's events every POLL_MS, shows and speaks each prompt, and sends what the person does.
 *
 * Stable hooks for tests (data-testid):
 *   person-select     <select> of registry people (value = E.164 phone)     number-input / use-number  a typed number
 *   my-number         the line in use (E.164)                               who-error   why a typed number was refused
 *   call-button       call the hotline                                      hangup      hang up (enabled during any call)
 *   call-status       text; data-state = idle | ringing | in-call | ended
 *   incoming          banner while a call-back rings; incoming-from; buttons answer, decline, ring-out
 *   prompts           <ol> of the call: li[data-testid=prompt] (data-kind say|play, lang) what is heard,
 *                     li[data-testid=note] (data-kind key|recorded|ended|error) what happened
 *   waiting           what the call waits for; data-kind = gather | record | "" (nothing)
 *   keypad            key-1 … key-9, key-0, key-star (*), key-hash (#)
 *   silence           "let it time out": the <Gather>/<Record> gets no input
 *   recording         shown while the microphone records; record-seconds; stop-recording (# also stops)
 *   mic-error, record-file   shown when there is no microphone: pick an audio file instead
 *   speak-toggle      speak prompts with speechSynthesis (checked by default)
 *   thread            <ol> of texts: li[data-testid=sms] with data-direction = to-phone | from-phone
 *   sms-input, sms-send   write and send a text to the hotline
 *   lang-toggle       中文 / English;  error   a failure of the sandbox API itself
 * <body data-ready="1"> once people are loaded; data-line = the line in use.
 * URL parameters: lang=en, number=<a number to use at once>, speech=0 (never speak: prompts are only shown),
 * fast=1 (pauses, beeps and reading time take no time), timeouts=0 (a <Gather> never times out by itself after
 * its timeout plus the time to hear or read its prompts; the silence button still does). The microphone starts
 * after the prompts before a <Record> have been spoken (at once when they are not).
 */
"use strict";

const POLL_MS = 600;
const params = new URLSearchParams(location.search);
const LANG = document.body.dataset.lang === "en" ? "en" : "zh";
const FAST = params.get("fast") === "1";
const AUTO_TIMEOUTS = params.get("timeouts") !== "0";
const TEXT = {
  zh: {
    title: "网格热线 · 模拟电话", who: "我是谁", pick_person: "选择登记的人员", or_number: "或输入电话号码",
    use_number: "使用此号码", my_number: "本机号码：", hotline: "热线号码：", incoming: "来电：", answer: "接听",
    decline: "拒接", ring_out: "不接（让它一直响）", call: "拨打热线", recording: "正在录音", seconds: "秒",
    stop_recording: "说完了", record_file: "选择一个录音文件代替麦克风：", silence: "不按键 / 不说话（等待超时）",
    hangup: "挂断", speak: "朗读语音提示", sms: "短信", send: "发送", lang_other: "English", none: "— 请选择 —",
    idle: "空闲", ringing: "来电响铃中", in_call: "通话中", ended: "通话已结束",
    wait_gather: "请按键", wait_record: "请说话，说完按 # 或点“说完了”", pressed: "您按了", spoke: "录音",
    ended_as: "通话结束", no_mic: "无法使用麦克风", choose_first: "请先选择人员或输入号码",
    play: "播放录音", cannot_play: "（无法在网页中播放）",
  },
  en: {
    title: "GridLine sandbox phone", who: "Who am I", pick_person: "Choose a person from the registry",
    or_number: "or type a phone number", use_number: "Use this number", my_number: "This phone:", hotline: "Hotline:",
    incoming: "Incoming call:", answer: "Answer", decline: "Decline", ring_out: "Let it ring out",
    call: "Call the hotline", recording: "Recording", seconds: "s", stop_recording: "Done speaking",
    record_file: "Pick an audio file instead of the microphone:", silence: "No input (let it time out)",
    hangup: "Hang up", speak: "Speak the prompts", sms: "Text messages", send: "Send", lang_other: "中文",
    none: "— choose —", idle: "Idle", ringing: "Ringing", in_call: "On a call", ended: "Call ended",
    wait_gather: "Press a key", wait_record: "Speak now; press # or \"Done speaking\" when finished",
    pressed: "You pressed", spoke: "Recording", ended_as: "Call ended", no_mic: "No microphone available",
    choose_first: "Choose a person or type a number first", play: "Playing a recording",
    cannot_play: "(cannot be played in the page)",
  },
}[LANG];

const $ = (id) => document.getElementById(id);
const state = { line: "", last: 0, call: null, ringing: null, waiting: null, waitToken: 0, polling: null, smsIds: new Set(),
  readMs: 0 }; // readMs: reading time of the unspoken prompts since the last wait

// ---- the sandbox API ------------------------------------------------------------------------------
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (method === "POST") init.headers["X-Sandbox-Phone"] = "1";
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
  const resp = await fetch("/phone/api" + path, init);
  const data = await resp.json().catch(() => ({ error: `HTTP ${resp.status}` }));
  if (!resp.ok) throw new Error(data.error || `HTTP ${resp.status}`);
  return data;
}
const lineUrl = (suffix) => `/lines/${encodeURIComponent(state.line)}${suffix}`;
function showError(message) { $("error").textContent = message; $("error").hidden = !message; }
async function attempt(fn) { try { showError(""); return await fn(); } catch (err) { showError(String(err.message || err)); } }

// ---- what the person hears: one queue of speech, audio and pauses ----------------------------------
const player = { queue: [], busy: false, token: 0, audio: null, idle: [] };
function speaking() { return $("speak-toggle").checked && params.get("speech") !== "0" && "speechSynthesis" in window; }
function estimateMs(text, lang) { // how long a prompt takes to say (or to read, when it is not spoken)
  if (FAST) return 0;
  const perChar = lang.startsWith("zh") ? 230 : 65;
  return Math.min(20000, 400 + text.length * perChar);
}
function pickVoice(lang) {
  const voices = window.speechSynthesis.getVoices();
  const norm = (v) => v.lang.replace("_", "-").toLowerCase();
  return voices.find((v) => norm(v) === lang.toLowerCase()) || voices.find((v) => norm(v).startsWith(lang.slice(0, 2).toLowerCase()));
}
function enqueue(item) { player.queue.push(item); pump(); }
function whenIdle(fn) { if (!player.busy && player.queue.length === 0) fn(); else player.idle.push(fn); }
function pump() {
  if (player.busy) return;
  const item = player.queue.shift();
  if (!item) { const waiting = player.idle.splice(0); waiting.forEach((fn) => fn()); return; }
  player.busy = true;
  const token = player.token;
  let finished = false;
  const done = () => { if (finished || token !== player.token) return; finished = true; player.busy = false; pump(); };
  playItem(item, done);
}
function playItem(item, done) {
  if (item.kind === "say") {
    const text = Array(Math.max(1, Math.min(item.loop || 1, 5))).fill(item.text).join(" ");
    if (!speaking()) { done(); return; } // nothing to hear: the reading time goes on the <Gather>'s timeout
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = item.lang;
    const voice = pickVoice(item.lang);
    if (voice) utterance.voice = voice;
    utterance.rate = 0.95;
    utterance.onend = done; utterance.onerror = done;
    setTimeout(done, estimateMs(text, item.lang) * 1.5 + 1500); // never block on a browser without voices
    try { window.speechSynthesis.speak(utterance); } catch (_) { done(); }
  } else if (item.kind === "play" && item.src) {
    const audio = new Audio(item.src);
    player.audio = audio;
    audio.onended = done; audio.onerror = done;
    audio.play().catch(done);
    setTimeout(done, 130000);
  } else if (item.kind === "pause") {
    setTimeout(done, FAST ? 0 : (item.seconds || 1) * 1000);
  } else if (item.kind === "beep") {
    tone(1000, 0.3); setTimeout(done, FAST ? 0 : 350);
  } else { done(); }
}
function stopPlayback() { // a key barges in: what is being said stops, the rest is skipped
  player.token += 1; player.queue = []; player.busy = false;
  if ("speechSynthesis" in window) window.speechSynthesis.cancel();
  if (player.audio) { player.audio.pause(); player.audio = null; }
  const waiting = player.idle.splice(0); waiting.forEach((fn) => fn());
}
let audioCtx = null;
function tone(freq, seconds) {
  try {
    audioCtx = audioCtx || new (window.AudioContext || window.webkitAudioContext)();
    const osc = audioCtx.createOscillator(); const gain = audioCtx.createGain();
    osc.frequency.value = freq; gain.gain.value = 0.15; osc.connect(gain).connect(audioCtx.destination);
    osc.start(); osc.stop(audioCtx.currentTime + seconds);
  } catch (_) { /* no audio output: the page still works */ }
}

// ---- the call on screen ----------------------------------------------------------------------------
function note(kind, text) {
  const li = document.createElement("li");
  li.setAttribute("data-testid", "note"); li.dataset.kind = kind; li.textContent = text;
  $("prompts").append(li); li.scrollIntoView({ block: "nearest" });
}
function heard(event) {
  const li = document.createElement("li");
  li.setAttribute("data-testid", "prompt"); li.dataset.kind = event.kind;
  if (event.kind === "say") { li.textContent = event.text; li.lang = event.lang; }
  else { li.textContent = `♪ ${TEXT.play}: ${event.url}` + (event.src ? "" : ` ${TEXT.cannot_play}`); }
  $("prompts").append(li); li.scrollIntoView({ block: "nearest" });
}
function setWaiting(wait) {
  state.waiting = wait; state.waitToken += 1;
  $("waiting").dataset.kind = wait ? wait.kind : "";
  $("waiting").textContent = wait ? (wait.kind === "gather" ? TEXT.wait_gather : TEXT.wait_record) : "";
  $("silence").disabled = !wait;
}
function render() {
  const s = state.call ? "in-call" : state.ringing ? "ringing" : state.ended ? "ended" : "idle";
  $("call-status").dataset.state = s;
  $("call-status").textContent = { "in-call": TEXT.in_call, ringing: TEXT.ringing, ended: TEXT.ended, idle: TEXT.idle }[s];
  $("incoming").hidden = !state.ringing || !!state.call;
  $("incoming-from").textContent = state.ringing ? state.ringing.from : "";
  $("call-button").disabled = !state.line || !!state.call;
  $("hangup").disabled = !state.call && !state.ringing;
  $("sms-send").disabled = !state.line;
  document.body.dataset.line = state.line;
}
function startGatherTimer(wait) {
  const reading = state.readMs;
  state.readMs = 0;
  if (!AUTO_TIMEOUTS) return;
  const token = state.waitToken;
  whenIdle(() => setTimeout(() => {
    if (token === state.waitToken && state.call) act("silence");
  }, (wait.timeout || 5) * 1000 + reading));
}
function onEvent(event) {
  const mine = !state.call || !event.call_sid || event.call_sid === state.call.call_sid;
  switch (event.kind) {
    case "call": $("prompts").replaceChildren(); state.ended = false;
      state.call = { call_sid: event.call_sid, from: event.from, to: event.to }; break;
    case "say": case "play":
      if (mine) { heard(event); enqueue(event); }
      if (mine && event.kind === "say" && !speaking()) state.readMs += estimateMs(event.text, event.lang);
      break;
    case "pause": if (mine) enqueue(event); break;
    case "gather": if (mine) { setWaiting({ kind: "gather", ...event }); startGatherTimer(event); } break;
    case "record":
      if (mine) { state.readMs = 0; setWaiting({ kind: "record", ...event }); whenIdle(() => startRecording(event)); }
      break;
    case "key": if (mine) note("key", `${TEXT.pressed} ${event.key}`); break;
    case "recorded": if (mine) note("recorded", `${TEXT.spoke} ${event.duration} ${TEXT.seconds}` + (event.note ? ` — ${event.note}` : "")); break;
    case "error": note("error", event.message); break;
    case "ended":
      if (state.call && event.call_sid === state.call.call_sid) {
        note("ended", `${TEXT.ended_as}: ${event.status}` + (event.detail ? ` — ${event.detail}` : ""));
        state.call = null; state.ended = true; setWaiting(null); discardRecording();
      }
      if (state.ringing && event.call_sid === state.ringing.call_sid) state.ringing = null;
      break;
    case "sms": addSms(event); break;
    default: break;
  }
}
let inFlight = null;
let pollAgain = false;
async function poll() { // one request at a time, so no event is shown twice
  if (inFlight) { pollAgain = true; return inFlight; }
  inFlight = (async () => { do { pollAgain = false; await pollOnce(); } while (pollAgain); })();
  try { await inFlight; } finally { inFlight = null; }
}
let lastRing = 0;
async function pollOnce() {
  if (!state.line) return;
  const line = state.line;
  try {
    const data = await api("GET", `${lineUrl("/events")}?after=${state.last}`);
    if (line !== state.line) return;
    data.events.filter((e) => e.id > state.last).forEach(onEvent);
    state.last = Math.max(state.last, data.last_id);
    const active = data.calls.find((c) => c.status === "in-progress");
    if (active && (!state.call || state.call.call_sid !== active.call_sid)) { state.call = active; setWaiting(active.waiting); }
    if (!active && state.call && !data.events.length) { state.call = null; setWaiting(null); }
    state.ringing = data.calls.find((c) => c.status === "ringing") || null;
    if (state.ringing && !state.call && Date.now() - lastRing > 2000) { lastRing = Date.now(); tone(440, 0.4); }
    render();
  } catch (err) { showError(String(err.message || err)); }
}

// ---- what the person does --------------------------------------------------------------------------
async function act(action, body) {
  if (!state.call) return;
  const sid = state.call.call_sid;
  if (action === "silence") setWaiting(null);
  await attempt(() => api("POST", `/calls/${sid}/${action}`, body));
  await poll();
}
function press(key) {
  tone(key === "*" || key === "#" ? 941 : 697 + 40 * (Number(key) || 0), 0.12);
  if (!state.call) { $("number-input").value += key; return; } // idle: the keypad dials a number to use
  const wait = state.waiting;
  if (recorder.active) { if (wait && (wait.finish_on_key || "#").includes(key)) stopRecording(key); return; }
  stopPlayback(); // a key skips the prompt being said
  if (wait && wait.kind === "record" && $("mic-fallback").hidden) return; // recording starts now instead
  state.waitToken += 1; // a key restarts the <Gather>'s timeout
  const token = state.waitToken;
  act("keys", { keys: key }).then(() => {
    if (token === state.waitToken && state.waiting && state.waiting.kind === "gather" && state.call) startGatherTimer(state.waiting);
  });
}
async function hangup() {
  if (recorder.active) { stopRecording("hangup"); return; }
  stopPlayback();
  if (state.call) await act("hangup");
  else if (state.ringing) { await attempt(() => api("POST", `/calls/${state.ringing.call_sid}/decline`)); await poll(); }
}
async function respond(action) {
  if (!state.ringing) return;
  const sid = state.ringing.call_sid;
  if (action === "answer") { $("prompts").replaceChildren(); }
  await attempt(() => api("POST", `/calls/${sid}/${action}`));
  await poll();
}

// ---- the microphone ----------------------------------------------------------------------------------
const recorder = { active: false, media: null, stream: null, chunks: [], started: 0, timer: null, ticker: null, finish: "#", discard: false };
async function startRecording(wait) {
  if (!state.call || !state.waiting || state.waiting.kind !== "record" || recorder.active) return;
  if (wait.play_beep) { tone(1000, 0.3); await new Promise((r) => setTimeout(r, 350)); }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    $("mic-error").textContent = `${TEXT.no_mic}: ${err.name || err}`;
    $("mic-fallback").hidden = false;
    return;
  }
  const media = new MediaRecorder(stream);
  Object.assign(recorder, { active: true, media, stream, chunks: [], started: Date.now(), finish: "#", discard: false });
  media.ondataavailable = (e) => { if (e.data && e.data.size) recorder.chunks.push(e.data); };
  media.onstop = uploadRecording;
  media.start(250);
  $("recording").hidden = false;
  recorder.ticker = setInterval(() => { $("record-seconds").textContent = String(Math.round((Date.now() - recorder.started) / 1000)); }, 250);
  recorder.timer = setTimeout(() => stopRecording("max-length"), (wait.max_length || 120) * 1000);
}
function stopRecording(finish) {
  if (!recorder.active) return;
  recorder.finish = finish;
  clearTimeout(recorder.timer); clearInterval(recorder.ticker);
  recorder.active = false;
  $("recording").hidden = true;
  recorder.media.stop();
  recorder.stream.getTracks().forEach((t) => t.stop());
}
function discardRecording() { if (recorder.active) { recorder.discard = true; stopRecording("hangup"); } $("mic-fallback").hidden = true; }
async function uploadRecording() {
  if (recorder.discard || !state.call) return;
  const blob = new Blob(recorder.chunks, { type: recorder.media.mimeType || "audio/webm" });
  await sendRecording(blob, recorder.finish, (Date.now() - recorder.started) / 1000);
}
async function sendRecording(blob, finish, seconds) {
  const form = new FormData();
  form.append("audio", blob, blob.type.includes("ogg") ? "speech.ogg" : blob.type.includes("wav") ? "speech.wav" : "speech.webm");
  form.append("finish", finish);
  if (seconds) form.append("seconds", String(seconds));
  setWaiting(null);
  await act("recording", form);
}

// ---- texts -------------------------------------------------------------------------------------------
function addSms(event) {
  if (state.smsIds.has(event.id)) return;
  state.smsIds.add(event.id);
  const li = document.createElement("li");
  li.setAttribute("data-testid", "sms"); li.dataset.direction = event.direction;
  const time = document.createElement("time");
  time.textContent = new Date(event.at * 1000).toLocaleTimeString();
  li.append(document.createTextNode(event.body), time);
  $("thread").append(li); li.scrollIntoView({ block: "nearest" });
}
async function sendSms(e) {
  e.preventDefault();
  const body = $("sms-input").value;
  if (!state.line || !body.trim()) return;
  $("sms-input").value = "";
  await attempt(() => api("POST", lineUrl("/sms"), { body }));
  await poll();
}

// ---- who the phone is --------------------------------------------------------------------------------
async function useLine(raw) {
  $("who-error").hidden = true;
  let chosen;
  try { chosen = await api("POST", "/lines", { number: raw }); } catch (err) {
    $("who-error").textContent = String(err.message || err); $("who-error").hidden = false; return;
  }
  stopPlayback(); discardRecording();
  Object.assign(state, { line: chosen.number, call: null, ringing: null, ended: false, smsIds: new Set() });
  setWaiting(null);
  $("my-number").textContent = chosen.person ? `${chosen.person.name} ${chosen.number}` : chosen.number;
  $("person-select").value = [...$("person-select").options].some((o) => o.value === chosen.number) ? chosen.number : "";
  $("prompts").replaceChildren(); $("thread").replaceChildren();
  const now = await api("GET", `${lineUrl("/events")}?after=-1`);
  state.last = now.last_id;
  (await api("GET", lineUrl("/thread"))).messages.forEach(addSms);
  const active = now.calls.find((c) => c.status === "in-progress");
  if (active) { state.call = active; setWaiting(active.waiting); }
  state.ringing = now.calls.find((c) => c.status === "ringing") || null;
  render();
}
async function loadPeople() {
  const select = $("person-select");
  select.replaceChildren(new Option(TEXT.none, ""));
  const data = await api("GET", "/people");
  for (const p of data.people) {
    const role = LANG === "en" ? p.role_en : p.role_zh;
    select.append(new Option([p.name, role, p.grid, p.phone].filter(Boolean).join(" · "), p.phone));
  }
  if (data.error) showError(data.error);
}

function i18n() {
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = TEXT[el.dataset.i18n] || el.dataset.i18n; });
  const other = new URLSearchParams(location.search);
  if (LANG === "en") other.delete("lang"); else other.set("lang", "en");
  $("lang-toggle").textContent = TEXT.lang_other;
  $("lang-toggle").href = "?" + other.toString();
}

async function init() {
  i18n(); render();
  document.querySelectorAll(".key").forEach((b) => b.addEventListener("click", () => press(b.dataset.key)));
  $("call-button").addEventListener("click", async () => {
    if (!state.line) { showError(TEXT.choose_first); return; }
    stopPlayback(); $("prompts").replaceChildren();
    await attempt(() => api("POST", lineUrl("/call")));
    await poll();
  });
  $("hangup").addEventListener("click", hangup);
  $("answer").addEventListener("click", () => respond("answer"));
  $("decline").addEventListener("click", () => respond("decline"));
  $("ring-out").addEventListener("click", () => respond("ring-out"));
  $("silence").addEventListener("click", () => { stopPlayback(); act("silence"); });
  $("stop-recording").addEventListener("click", () => stopRecording("#"));
  $("record-file").addEventListener("change", async (e) => {
    const file = e.target.files[0];
    if (file) { $("mic-fallback").hidden = true; await sendRecording(file, "#", 0); e.target.value = ""; }
  });
  $("person-select").addEventListener("change", (e) => { if (e.target.value) useLine(e.target.value); });
  $("use-number").addEventListener("click", () => useLine($("number-input").value));
  $("number-input").addEventListener("keydown", (e) => { if (e.key === "Enter") useLine($("number-input").value); });
  $("sms-form").addEventListener("submit", sendSms);
  document.addEventListener("keydown", (e) => { // a hardware keyboard works as the keypad during a call
    if (state.call && /^[0-9*#]$/.test(e.key) && !/INPUT|TEXTAREA|SELECT/.test(e.target.tagName)) press(e.key);
  });
  await attempt(loadPeople);
  if (params.get("number")) await useLine(params.get("number"));
  state.polling = setInterval(poll, POLL_MS);
  document.body.dataset.ready = "1";
}
init();
