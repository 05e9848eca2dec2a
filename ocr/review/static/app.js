// memo-ocr review: every text from the run goes into the page with textContent, never as HTML.
"use strict";
const $ = (id) => document.getElementById(id);
const state = { items: [], idx: -1, pages: [], current: null };

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json", "X-Requested-With": "memo-ocr" },
    body: JSON.stringify(body),
  };
  const r = await fetch(path, opts);
  const data = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}

function qs(params) {
  return new URLSearchParams(params).toString();
}

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.appendChild(o);
}

function say(text, kind) {
  const m = $("message");
  m.textContent = text;
  m.className = kind || "";
}

async function init() {
  const info = await api("/api/pages");
  state.pages = info.pages;
  $("user").textContent = info.user ? "reviewer: " + info.user : "";
  for (const r of info.reels) option($("f-reel"), r, r);
  fillPages();
  for (const id of ["f-reel", "f-page", "f-kind", "f-status"]) {
    $(id).addEventListener("change", () => { if (id === "f-reel") fillPages(); loadQueue(); });
  }
  $("e-form").addEventListener("submit", (ev) => { ev.preventDefault(); save("corrected"); });
  $("b-illegible").addEventListener("click", () => save("illegible"));
  $("b-unclear").addEventListener("click", () => save("unclear"));
  $("b-next").addEventListener("click", () => select(state.idx + 1));
  $("b-prev").addEventListener("click", () => select(state.idx - 1));
  $("b-reset").addEventListener("click", resetText);
  document.addEventListener("keydown", onKey);
  for (const id of ["e-crop", "e-context"]) {
    $(id).addEventListener("load", onImage);
    $(id).addEventListener("error", onImage);
  }
  await loadQueue();
}

function fillPages() {
  const sel = $("f-page");
  const reel = $("f-reel").value;
  while (sel.options.length > 1) sel.remove(1);
  for (const p of state.pages) if (!reel || p.reel === reel) option(sel, p.page, reel ? p.page : p.reel + " / " + p.page);
}

async function loadQueue() {
  const params = { reel: $("f-reel").value, page: $("f-page").value, kind: $("f-kind").value, status: $("f-status").value };
  try {
    const data = await api("/api/queue?" + qs(params));
    state.items = data.items;
    $("count").textContent = data.count + " line" + (data.count === 1 ? "" : "s");
    renderQueue();
    select(state.items.length ? 0 : -1);
  } catch (e) {
    say("Could not load the queue: " + e.message, "bad");
  }
}

function label(it) {
  if (it.status === "corrected") return it.correction;
  return it.correction !== null && it.correction !== undefined ? it.correction : it.machine;
}

function renderQueue() {
  const ol = $("queue");
  ol.replaceChildren();
  state.items.forEach((it, i) => {
    const li = document.createElement("li");
    li.dataset.i = i;
    li.className = (it.status || "") + (i === state.idx ? " current" : "");
    const txt = document.createElement("div");
    txt.className = "txt";
    txt.textContent = label(it) || "\u2205";
    const meta = document.createElement("div");
    meta.className = "meta";
    const conf = it.conf === null ? "no conf" : "conf " + it.conf.toFixed(2);
    meta.textContent = [it.reel, it.page, it.line, it.kind, conf, it.status].filter(Boolean).join(" \u00b7 ");
    li.append(txt, meta);
    li.addEventListener("click", () => select(i));
    ol.appendChild(li);
  });
}

async function select(i) {
  if (i < 0 || i >= state.items.length) {
    if (!state.items.length) { $("editor").hidden = true; $("empty").hidden = false; }
    return;
  }
  state.idx = i;
  const it = state.items[i];
  $("editor").hidden = false;
  $("empty").hidden = true;
  for (const li of $("queue").children) li.classList.toggle("current", Number(li.dataset.i) === i);
  const cur = $("queue").children[i];
  if (cur) cur.scrollIntoView({ block: "nearest" });
  const key = { reel: it.reel, page: it.page, line: it.line };
  $("e-where").textContent = it.reel + " / " + it.page + " / " + it.line;
  $("e-kind").textContent = it.kind;
  $("e-conf").textContent = it.conf === null ? "" : "confidence " + it.conf.toFixed(2);
  $("e-machine").textContent = it.machine;
  $("e-error").textContent = it.error ? "(" + it.error + ")" : "";
  // the text field at once (the line's details follow): what is typed meanwhile is never overwritten
  state.initial = it.correction !== null && it.correction !== undefined ? it.correction : it.machine;
  $("e-text").value = state.initial;
  $("e-text").focus();
  showImage($("e-crop"), "/api/crop?" + qs(key));
  showImage($("e-context"), "/api/crop?" + qs({ ...key, context: 1 }));
  say("");
  try {
    const data = await api("/api/line?" + qs(key));
    if (state.idx !== i) return;
    state.current = data.item;
    Object.assign(it, data.item);
    show(it, data.history);
  } catch (e) {
    say("Could not load the line: " + e.message, "bad");
  }
}

function show(it, history) {
  const fresh = it.correction !== null && it.correction !== undefined ? it.correction : it.machine;
  if ($("e-text").value !== state.initial) return showHistory(it, history);  // the reviewer is typing
  $("e-text").value = state.initial = fresh;
  showHistory(it, history);
  $("e-text").focus();
  $("e-text").select();
}

function showHistory(it, history) {
  $("e-status").textContent = it.status || "not reviewed";
  const alts = $("e-alts");
  alts.replaceChildren();
  for (const a of it.alternatives) {
    const li = document.createElement("li");
    li.textContent = a;
    li.addEventListener("click", () => { $("e-text").value = a; $("e-text").focus(); });
    alts.appendChild(li);
  }
  $("e-alts-box").hidden = it.alternatives.length === 0;
  const h = $("e-history");
  h.replaceChildren();
  for (const e of history) {
    const li = document.createElement("li");
    li.textContent = e.at + " " + e.by + " [" + e.status + "] " + e.text;
    h.appendChild(li);
  }
}

// never show the previous line's image while the next one loads: the reviewer would read the wrong crop
function showImage(img, src) {
  const url = new URL(src, location.href).href;
  if (img.src === url && img.complete && img.naturalWidth > 0) { img.hidden = false; return; }
  img.hidden = true;
  img.src = url;
}

function onImage(ev) {
  const img = ev.target;
  img.hidden = ev.type !== "load";
  if (ev.type === "error") say("Could not load the image of this line (see the server's message in its log)", "bad");
}

function resetText() {
  const it = state.items[state.idx];
  if (it) $("e-text").value = it.machine;
}

async function save(status) {
  const i = state.idx;
  const it = state.items[i];
  if (!it) return;
  const body = { reel: it.reel, page: it.page, line: it.line, text: $("e-text").value, status: status, base_rev: it.rev };
  try {
    const res = await api("/api/save", body);
    Object.assign(it, res.item);
    const li = $("queue").children[i];
    if (li) {
      li.className = it.status + (i === state.idx ? " current" : "");
      li.querySelector(".txt").textContent = label(it) || "\u2205";
    }
    const note = res.conflict ? " \u2014 another edit of this line was saved meanwhile; both are in its history" : "";
    if (state.idx === i) await select(i + 1 < state.items.length ? i + 1 : i);
    say("Saved " + it.line + " as " + status + " (revision " + res.rev + ")" + note, res.conflict ? "warn" : "");
  } catch (e) {
    say("Not saved: " + e.message, "bad");
  }
}

function onKey(ev) {
  if (ev.altKey && (ev.key === "i" || ev.key === "I" || ev.code === "KeyI")) { ev.preventDefault(); save("illegible"); }
  else if (ev.altKey && (ev.key === "u" || ev.key === "U" || ev.code === "KeyU")) { ev.preventDefault(); save("unclear"); }
  else if (ev.altKey && ev.key === "ArrowDown") { ev.preventDefault(); select(state.idx + 1); }
  else if (ev.altKey && ev.key === "ArrowUp") { ev.preventDefault(); select(state.idx - 1); }
  else if (ev.key === "Escape") { ev.preventDefault(); resetText(); }
}

init().catch((e) => say("Could not start: " + e.message, "bad"));
