// The labeling page. Model text is only ever put in the page with textContent: answers
// and prompts are data, never markup.
"use strict";

const NAME_RE = /^[A-Za-z0-9_-]{1,32}$/;
const $ = (id) => document.getElementById(id);

const state = {
  labeler: null,
  view: null,
  // Answer indices grouped by rank, best first; a group of several is a tie.
  tiers: [],
  // Answer index → its letter, fixed for the item however the cards move.
  letters: new Map(),
  texts: new Map(),
  ended: new Map(),
  editor: null, // {kind: "demo" | "correct" | "critique", index?}
  busy: false,
};

// ---- Talking to the server -------------------------------------------------------

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data = null;
  try {
    data = await res.json();
  } catch (_) {
    data = null;
  }
  if (!res.ok) {
    const msg = (data && data.error) || `${res.status} ${res.statusText}`;
    throw new Error(msg);
  }
  return data;
}

const labelerPath = (rest) => `/api/labelers/${encodeURIComponent(state.labeler)}/${rest}`;

async function run(task) {
  if (state.busy) return;
  state.busy = true;
  document.body.classList.add("busy");
  try {
    await task();
  } catch (e) {
    toast(e.message, true);
  } finally {
    state.busy = false;
    document.body.classList.remove("busy");
  }
}

// ---- Small DOM helpers -----------------------------------------------------------

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

let toastTimer = null;
function toast(text, isError) {
  const t = $("toast");
  t.textContent = text;
  t.classList.toggle("error", !!isError);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), isError ? 6000 : 2200);
}

function show(section) {
  for (const id of ["login", "work", "finished"]) $(id).hidden = id !== section;
}

// ---- Labeler ---------------------------------------------------------------------

async function start() {
  const cfg = await api("GET", "/api/config");
  const stored = localStorage.getItem("mote-label-name");
  const name = stored && NAME_RE.test(stored) ? stored : cfg.default_labeler;
  renderKnown(cfg.labelers);
  if (name) {
    await useLabeler(name);
  } else {
    showLogin();
  }
}

function renderKnown(names) {
  const box = $("known");
  box.replaceChildren();
  if (!names.length) return;
  box.append(el("span", "muted small", "Labelers so far: "));
  for (const n of names) {
    const b = el("button", "chip", n);
    b.type = "button";
    b.addEventListener("click", () => run(() => useLabeler(n)));
    box.append(b);
  }
}

function showLogin() {
  show("login");
  $("progress").hidden = true;
  $("who").hidden = true;
  $("login-name").value = state.labeler || "";
  $("login-name").focus();
}

async function useLabeler(name) {
  if (!NAME_RE.test(name)) throw new Error("use 1 to 32 letters, digits, _ or -");
  state.labeler = name;
  localStorage.setItem("mote-label-name", name);
  $("who").textContent = name;
  $("who").hidden = false;
  setView(await api("GET", labelerPath("next")));
}

// ---- The current item ------------------------------------------------------------

function setView(view) {
  state.view = view;
  renderProgress(view.progress);
  closeEditor();
  const item = view.item;
  if (!item) {
    show("finished");
    return;
  }
  show("work");
  state.tiers = item.answers.map((a) => [a.index]);
  state.letters = new Map(item.answers.map((a, i) => [a.index, String.fromCharCode(65 + i)]));
  state.texts = new Map(item.answers.map((a) => [a.index, a.text]));
  state.ended = new Map(item.answers.map((a) => [a.index, a.ended]));
  $("item-line").textContent = `line ${item.line}`;
  $("system").hidden = !item.system;
  $("system").textContent = item.system ? `System: ${item.system}` : "";
  $("prompt").textContent = item.prompt;
  renderSaved(item);
  const submit = $("submit");
  submit.textContent = item.ranked ? "Next prompt" : "Submit ranking";
  renderAnswers();
  const first = $("answers").firstElementChild;
  if (first) first.focus({ preventScroll: true });
}

function renderProgress(p) {
  $("progress").hidden = false;
  const pct = p.total ? (100 * p.done) / p.total : 0;
  $("meter-fill").style.width = `${pct}%`;
  let text = `${p.done} / ${p.total} ranked`;
  if (p.skipped) text += ` · ${p.skipped} skipped`;
  $("progress-text").textContent = text;
}

function renderSaved(item) {
  const parts = [];
  if (item.ranked) parts.push("ranked");
  if (item.demos) parts.push(`${item.demos} answer${item.demos > 1 ? "s" : ""} written`);
  if (item.critiques) parts.push(`${item.critiques} critique${item.critiques > 1 ? "s" : ""}`);
  $("saved").textContent = parts.length ? `Saved: ${parts.join(" · ")}` : "";
}

function tierOf(index) {
  return state.tiers.findIndex((t) => t.includes(index));
}

function renderAnswers(focusIndex) {
  const list = $("answers");
  list.replaceChildren();
  state.tiers.forEach((tier, t) => {
    tier.forEach((index, k) => {
      const li = el("li", "answer");
      li.tabIndex = 0;
      li.dataset.index = String(index);
      const tied = tier.length > 1;
      if (tied) {
        li.classList.add("tied");
        if (k === 0) li.classList.add("tie-first");
        if (k === tier.length - 1) li.classList.add("tie-last");
      }
      const rank = el("div", "rank");
      rank.append(el("span", "rank-num", String(t + 1)));
      if (tied) rank.append(el("span", "rank-tie", "tie"));
      const body = el("div", "body");
      const head = el("div", "answer-head");
      const label = el("span", "letter", `Answer ${state.letters.get(index)}`);
      if (!state.ended.get(index)) {
        const cut = el("span", "cut", "cut off");
        cut.title = "Generation hit the token limit before the answer ended its turn.";
        label.append(cut);
      }
      head.append(label);
      const tools = el("span", "tools");
      for (const [act, label] of [["correct", "Correct"], ["critique", "Critique"]]) {
        const b = el("button", "link", label);
        b.type = "button";
        b.dataset.act = act;
        b.tabIndex = -1;
        tools.append(b);
      }
      head.append(tools);
      const text = el("div", "text", state.texts.get(index));
      if (!state.texts.get(index)) {
        text.textContent = "(empty answer)";
        text.classList.add("muted");
      }
      body.append(head, text);
      const grip = el("div", "grip");
      grip.setAttribute("aria-hidden", "true");
      li.append(rank, body, grip);
      li.setAttribute(
        "aria-label",
        `Rank ${t + 1}${tied ? ", tied" : ""}: answer ${state.letters.get(index)}`,
      );
      list.append(li);
    });
  });
  if (focusIndex !== undefined) {
    const card = list.querySelector(`[data-index="${focusIndex}"]`);
    if (card) card.focus({ preventScroll: false });
  }
}

// ---- Ranking operations ----------------------------------------------------------

function removeFromTier(index) {
  const t = tierOf(index);
  state.tiers[t] = state.tiers[t].filter((i) => i !== index);
  if (!state.tiers[t].length) state.tiers.splice(t, 1);
}

// One step up (-1) or down (+1): leave a tie first, else pass the neighbouring group.
function moveBy(index, dir) {
  const t = tierOf(index);
  if (state.tiers[t].length > 1) {
    removeFromTier(index);
    state.tiers.splice(dir < 0 ? t : t + 1, 0, [index]);
  } else {
    const u = t + dir;
    if (u < 0 || u >= state.tiers.length) return;
    [state.tiers[t], state.tiers[u]] = [state.tiers[u], state.tiers[t]];
  }
}

// Tie with the group above, or leave a tie (placed just below it).
function toggleTie(index) {
  const t = tierOf(index);
  if (state.tiers[t].length > 1) {
    removeFromTier(index);
    state.tiers.splice(t + 1, 0, [index]);
  } else if (t > 0) {
    state.tiers.splice(t, 1);
    state.tiers[t - 1].push(index);
  }
}

// Typed rank: the answer joins the group with that number (a tie), or goes last.
function setRank(index, rank) {
  const ranks = new Map();
  state.tiers.forEach((tier, t) => tier.forEach((i) => ranks.set(i, t + 1)));
  ranks.set(index, Math.min(rank, state.tiers.length + 0.5));
  const numbers = [...new Set(ranks.values())].sort((a, b) => a - b);
  state.tiers = numbers.map((n) => state.tiers.flat().filter((i) => ranks.get(i) === n));
  // Keep the moved answer last within a group it joins.
  state.tiers.forEach((tier) => {
    const k = tier.indexOf(index);
    if (k >= 0 && tier.length > 1) tier.push(tier.splice(k, 1)[0]);
  });
}

// Drop: onto a card (tie with it) or into a gap between cards.
function dropAt(index, target) {
  if (target.kind === "onto") {
    if (target.index === index) return;
    removeFromTier(index);
    state.tiers[tierOf(target.index)].push(index);
    return;
  }
  // Gap before the card at flat position `pos` (or at the end).
  const flat = state.tiers.flat();
  const before = flat[target.pos - 1];
  const after = flat[target.pos];
  if (before === index || after === index) {
    if (state.tiers[tierOf(index)].length === 1) return;
  }
  removeFromTier(index);
  const tb = before === undefined || before === index ? -1 : tierOf(before);
  const ta = after === undefined || after === index ? -1 : tierOf(after);
  if (tb >= 0 && tb === ta) {
    state.tiers[tb].push(index); // between two tied answers: join them
  } else if (ta >= 0) {
    state.tiers.splice(ta, 0, [index]);
  } else if (tb >= 0) {
    state.tiers.splice(tb + 1, 0, [index]);
  } else {
    state.tiers.push([index]);
  }
}

function ranking() {
  return state.tiers.map((t) => (t.length === 1 ? t[0] : [...t].sort((a, b) => a - b)));
}

// ---- Keyboard on the answer list -------------------------------------------------

function focusedIndex() {
  const a = document.activeElement;
  return a && a.classList && a.classList.contains("answer") ? Number(a.dataset.index) : null;
}

function onAnswersKey(e) {
  const index = focusedIndex();
  if (index === null) return;
  const flat = state.tiers.flat();
  const pos = flat.indexOf(index);
  const moveMod = e.altKey || e.ctrlKey || e.metaKey;
  if ((e.key === "ArrowUp" || e.key === "ArrowDown") && moveMod) {
    moveBy(index, e.key === "ArrowUp" ? -1 : 1);
    renderAnswers(index);
  } else if (e.key === "ArrowUp" || e.key === "ArrowDown") {
    const next = flat[pos + (e.key === "ArrowUp" ? -1 : 1)];
    if (next !== undefined) $("answers").querySelector(`[data-index="${next}"]`).focus();
  } else if (/^[1-9]$/.test(e.key) && !moveMod) {
    setRank(index, Number(e.key));
    renderAnswers(index);
  } else if (e.key === "=" && !moveMod) {
    toggleTie(index);
    renderAnswers(index);
  } else {
    return;
  }
  e.preventDefault();
}

function onPageKey(e) {
  const tag = (e.target && e.target.tagName) || "";
  const typing = tag === "TEXTAREA" || tag === "INPUT";
  if (typing) {
    if (e.target.id === "editor-text") {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        saveEditor();
      } else if (e.key === "Escape") {
        closeEditor();
      }
    }
    return;
  }
  if ($("work").hidden) return;
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  const key = e.key.toLowerCase();
  if (e.key === "Enter" && tag !== "BUTTON") {
    e.preventDefault();
    submit();
  } else if (key === "s") {
    skip();
  } else if (key === "u") {
    undo();
  } else if (key === "w") {
    e.preventDefault();
    openEditor({ kind: "demo" });
  } else if (e.key === "Escape") {
    closeEditor();
  }
}

// ---- Dragging with pointer events (mouse, pen and touch alike) ---------------------

const drag = { index: null, card: null, startY: 0, active: false, target: null, pointer: null };

function onPointerDown(e) {
  const card = e.target.closest(".answer");
  if (!card || e.button !== 0 || e.target.closest("button")) return;
  // On touch screens only the grip drags, so the list still scrolls.
  if (e.pointerType === "touch" && !e.target.closest(".grip")) return;
  drag.index = Number(card.dataset.index);
  drag.card = card;
  drag.startY = e.clientY;
  drag.active = false;
  drag.pointer = e.pointerId;
}

function clearMarks() {
  for (const c of $("answers").children) c.classList.remove("drop-onto", "drop-before", "drop-after");
}

function findTarget(y) {
  const cards = [...$("answers").children];
  for (let pos = 0; pos < cards.length; pos++) {
    const r = cards[pos].getBoundingClientRect();
    if (y < r.top || y > r.bottom) {
      if (y < r.top) return { kind: "gap", pos, card: cards[pos], side: "before" };
      continue;
    }
    const f = (y - r.top) / r.height;
    if (f < 0.25) return { kind: "gap", pos, card: cards[pos], side: "before" };
    if (f > 0.75) return { kind: "gap", pos: pos + 1, card: cards[pos], side: "after" };
    return { kind: "onto", index: Number(cards[pos].dataset.index), card: cards[pos] };
  }
  const last = cards[cards.length - 1];
  return { kind: "gap", pos: cards.length, card: last, side: "after" };
}

function onPointerMove(e) {
  if (drag.index === null || e.pointerId !== drag.pointer) return;
  const dy = e.clientY - drag.startY;
  if (!drag.active) {
    if (Math.abs(dy) < 5) return;
    drag.active = true;
    drag.card.classList.add("dragging");
    document.body.classList.add("is-dragging");
    drag.card.setPointerCapture(e.pointerId);
    window.getSelection().removeAllRanges();
  }
  e.preventDefault();
  drag.card.style.transform = `translateY(${dy}px)`;
  clearMarks();
  const t = findTarget(e.clientY);
  drag.target = t;
  if (t.card === drag.card && t.kind === "onto") return;
  if (t.kind === "onto") t.card.classList.add("drop-onto");
  else t.card.classList.add(t.side === "before" ? "drop-before" : "drop-after");
}

function onPointerUp(e) {
  if (drag.index === null || e.pointerId !== drag.pointer) return;
  const { index, active, target } = drag;
  if (drag.card) {
    drag.card.classList.remove("dragging");
    drag.card.style.transform = "";
  }
  document.body.classList.remove("is-dragging");
  clearMarks();
  drag.index = null;
  drag.card = null;
  drag.target = null;
  if (active && target) {
    dropAt(index, target);
    renderAnswers(index);
  }
}

// ---- Submissions -----------------------------------------------------------------

function submit() {
  const item = state.view && state.view.item;
  if (!item) return;
  if (item.ranked) {
    run(async () => setView(await api("GET", labelerPath("next"))));
    return;
  }
  if (state.tiers.length < 2) {
    toast("All answers are tied: put at least one above another, or skip.", true);
    return;
  }
  run(async () => {
    const view = await api("POST", labelerPath("rankings"), { id: item.id, ranking: ranking() });
    toast("Ranking saved");
    setView(view);
  });
}

function skip() {
  const item = state.view && state.view.item;
  if (!item) return;
  run(async () => {
    setView(await api("POST", labelerPath("skips"), { id: item.id }));
    toast("Skipped");
  });
}

function undo() {
  run(async () => {
    const view = await api("POST", labelerPath("undo"));
    setView(view);
    const what = { ranking: "ranking", demo: "answer", critique: "critique", skip: "skip" };
    toast(`Took back your last ${what[view.undone.kind] || "submission"}`);
  });
}

// ---- Writing: ideal answers, corrections, critiques ------------------------------

function openEditor(mode) {
  const item = state.view && state.view.item;
  if (!item) return;
  state.editor = mode;
  const quote = $("editor-quote");
  const text = $("editor-text");
  if (mode.kind === "demo") {
    $("editor-title").textContent = "Write an ideal answer";
    $("editor-hint").textContent = "What the assistant should have said.";
    quote.hidden = true;
    text.value = "";
  } else {
    const letter = state.letters.get(mode.index);
    const original = state.texts.get(mode.index);
    quote.hidden = false;
    quote.textContent = original;
    if (mode.kind === "correct") {
      $("editor-title").textContent = `Correct answer ${letter}`;
      $("editor-hint").textContent = "Edit it into a good answer; it is saved as a demonstration.";
      text.value = original;
    } else {
      $("editor-title").textContent = `Critique answer ${letter}`;
      $("editor-hint").textContent = "What is wrong or right with it, and why.";
      text.value = "";
    }
  }
  $("editor").hidden = false;
  text.focus();
  $("editor").scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function closeEditor() {
  state.editor = null;
  $("editor").hidden = true;
}

function saveEditor() {
  const item = state.view && state.view.item;
  const mode = state.editor;
  if (!item || !mode) return;
  const text = $("editor-text").value;
  if (!text.trim()) {
    toast("Nothing written yet.", true);
    return;
  }
  run(async () => {
    let view;
    if (mode.kind === "critique") {
      view = await api("POST", labelerPath("critiques"), { id: item.id, index: mode.index, critique: text });
      toast("Critique saved");
    } else {
      const body = { id: item.id, completion: text };
      if (mode.kind === "correct") body.corrects = mode.index;
      view = await api("POST", labelerPath("demos"), body);
      toast(mode.kind === "correct" ? "Correction saved" : "Answer saved");
    }
    // Same item: keep the order being built, refresh the counts.
    state.view = view;
    renderProgress(view.progress);
    renderSaved(view.item);
    closeEditor();
  });
}

// ---- Wiring ----------------------------------------------------------------------

function init() {
  const list = $("answers");
  list.addEventListener("keydown", onAnswersKey);
  list.addEventListener("pointerdown", onPointerDown);
  list.addEventListener("pointermove", onPointerMove);
  list.addEventListener("pointerup", onPointerUp);
  list.addEventListener("pointercancel", onPointerUp);
  list.addEventListener("click", (e) => {
    const b = e.target.closest("button[data-act]");
    if (!b) return;
    const index = Number(b.closest(".answer").dataset.index);
    openEditor({ kind: b.dataset.act, index });
  });
  document.addEventListener("keydown", onPageKey);
  $("submit").addEventListener("click", submit);
  $("skip").addEventListener("click", skip);
  $("undo").addEventListener("click", undo);
  $("finished-undo").addEventListener("click", undo);
  $("write").addEventListener("click", () => openEditor({ kind: "demo" }));
  $("editor-save").addEventListener("click", saveEditor);
  $("editor-cancel").addEventListener("click", closeEditor);
  $("who").addEventListener("click", () =>
    run(async () => {
      renderKnown((await api("GET", "/api/config")).labelers);
      showLogin();
    }),
  );
  $("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    run(() => useLabeler($("login-name").value.trim()));
  });
  run(start);
}

init();
