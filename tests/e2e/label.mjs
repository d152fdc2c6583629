// `mote label` in headless Chromium: rank one prompt with the keyboard (with a tie) and
// one with the mouse, write and correct answers, kill the server, start it again and
// check the page resumes, then undo. The samples' `expect` field (ignored by mote) holds
// the ranking to produce, best first, ties as inner arrays.
//
// node label.mjs --mote BIN --samples FILE --out DIR [--screenshot PNG]
// Exits non-zero on any failure; prints one JSON line of what it did on success.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.MOTE_CHROMIUM || "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function args() {
  const out = {};
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    if (!a[i].startsWith("--") || a[i + 1] === undefined) throw new Error(`bad argument ${a[i]}`);
    out[a[i].slice(2)] = a[i + 1];
  }
  for (const need of ["mote", "samples", "out"]) {
    if (!out[need]) throw new Error(`--${need} is required`);
  }
  return out;
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

// Start `mote label` on a free port; resolves with the process and the page address.
function startServer(opt) {
  const child = spawn(
    opt.mote,
    ["label", "--in", opt.samples, "--out", opt.out, "--bind", "127.0.0.1:0", "--labeler", "ann"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new Error(`mote label did not start:\n${err}`)), 20000);
    child.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/open (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`mote label exited with ${code}:\n${err}`));
    });
  });
}

async function kill(server) {
  if (server.child.exitCode !== null) return;
  const gone = new Promise((r) => server.child.once("exit", r));
  // SIGKILL: the labels must already be on disk, as after a crash.
  server.child.kill("SIGKILL");
  await gone;
}

const progress = (page) => page.locator("#progress-text").textContent();
const promptText = (page) => page.locator("#prompt").textContent();

async function cardTexts(page) {
  return page.locator(".answer .text").allTextContents();
}

async function waitForPrompt(page, text) {
  await page.waitForFunction(
    (t) => document.getElementById("prompt").textContent === t && !document.body.classList.contains("busy"),
    text,
  );
}

// The tiers the page shows now: texts grouped by rank number.
async function shownTiers(page) {
  return page.$$eval(".answer", (cards) => {
    const tiers = [];
    for (const c of cards) {
      const n = Number(c.querySelector(".rank-num").textContent);
      (tiers[n - 1] ||= []).push(c.querySelector(".text").textContent);
    }
    return tiers;
  });
}

function wantTiers(sample) {
  return sample.expect.map((e) =>
    (Array.isArray(e) ? e : [e]).map((i) => sample.completions[i]).sort(),
  );
}

function sameTiers(shown, want) {
  const norm = (ts) => JSON.stringify(ts.map((t) => [...t].sort()));
  return norm(shown) === norm(want);
}

// Keyboard: Alt+↑ moves each answer into place, then `=` ties the groups that need it.
async function rankWithKeyboard(page, sample) {
  const flat = sample.expect.flat().map((i) => sample.completions[i]);
  for (let pos = 0; pos < flat.length; pos++) {
    const texts = await cardTexts(page);
    const at = texts.indexOf(flat[pos]);
    check(at >= 0, `answer ${flat[pos]} shown`);
    await page.locator(".answer").nth(at).focus();
    for (let k = at; k > pos; k--) await page.keyboard.press("Alt+ArrowUp");
  }
  let pos = 0;
  for (const entry of sample.expect) {
    const group = Array.isArray(entry) ? entry : [entry];
    for (let k = 1; k < group.length; k++) {
      await page.locator(".answer").nth(pos + k).focus();
      await page.keyboard.press("=");
    }
    pos += group.length;
  }
}

// Mouse: drag each answer by its grip to the gap above the card now at its place.
async function rankWithMouse(page, sample) {
  check(sample.expect.every((e) => !Array.isArray(e)), "mouse ranking is strict");
  const flat = sample.expect.map((i) => sample.completions[i]);
  for (let pos = 0; pos < flat.length; pos++) {
    const texts = await cardTexts(page);
    const at = texts.indexOf(flat[pos]);
    if (at === pos) continue;
    const from = await page.locator(".answer").nth(at).boundingBox();
    const to = await page.locator(".answer").nth(pos).boundingBox();
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    const y = to.y + 3; // the top quarter of a card: the gap above it
    await page.mouse.move(from.x + from.width / 2, (from.y + y) / 2, { steps: 5 });
    await page.mouse.move(from.x + from.width / 2, y, { steps: 5 });
    await page.mouse.up();
  }
}

async function main() {
  const opt = args();
  const samples = readFileSync(opt.samples, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  check(samples.length === 4, "four samples");
  const [s1, s2, s3] = samples;
  const profile = mkdtempSync(join(tmpdir(), "mote-label-chromium-"));
  let server = await startServer(opt);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1100, height: 720 },
  });
  const problems = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on("dialog", (d) => {
      problems.push(`a dialog opened: ${d.message()}`);
      d.dismiss();
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console error: ${m.text()}`);
    });

    await page.goto(server.url);
    await waitForPrompt(page, s1.prompt);
    check((await progress(page)) === "0 / 4 ranked", "progress starts at 0 / 4");
    // Model text is shown as text: the <script> answer is a card's text, not markup.
    const texts = await cardTexts(page);
    check(texts.includes(s1.completions[1]), "the <script> answer is shown verbatim");
    check((await page.locator(".answer .text script").count()) === 0, "no script element from model text");
    const cut = page.locator(".answer", { has: page.locator(".cut") });
    check((await cut.count()) === 1, "one answer marked as cut off");
    check((await cut.locator(".text").textContent()) === s1.completions[2], "the cut-off answer is marked");

    // 1. Keyboard, with a tie.
    await rankWithKeyboard(page, s1);
    check(sameTiers(await shownTiers(page), wantTiers(s1)), "keyboard ranking shown");
    if (opt.screenshot) {
      await page.mouse.move(0, 0);
      await page.locator(".answer").first().focus();
      await page.screenshot({ path: opt.screenshot, fullPage: true });
    }
    await page.keyboard.press("Enter");
    await waitForPrompt(page, s2.prompt);
    check((await progress(page)) === "1 / 4 ranked", "progress 1 / 4");

    // 2. Mouse drag.
    await rankWithMouse(page, s2);
    check(sameTiers(await shownTiers(page), wantTiers(s2)), "mouse ranking shown");
    await page.locator("#submit").click();
    await waitForPrompt(page, s3.prompt);
    check((await progress(page)) === "2 / 4 ranked", "progress 2 / 4");

    // 3. An ideal answer, and a correction of one answer.
    await page.locator("#write").click();
    await page.locator("#editor-text").fill(s3.demo);
    await page.locator("#editor-save").click();
    await page.waitForFunction(() => document.getElementById("saved").textContent.includes("1 answer written"));
    const target = page.locator(".answer", { hasText: s3.completions[0] });
    await target.hover();
    await target.locator("button[data-act=correct]").click();
    check((await page.locator("#editor-text").inputValue()) === s3.completions[0], "correction starts from the answer");
    await page.locator("#editor-text").fill(s3.correction);
    await page.keyboard.press("Control+Enter");
    await page.waitForFunction(() => document.getElementById("saved").textContent.includes("2 answers written"));

    // 4. Crash and restart: the page resumes at the third prompt with both answers saved.
    await kill(server);
    server = await startServer(opt);
    await page.goto(server.url);
    await waitForPrompt(page, s3.prompt);
    check((await progress(page)) === "2 / 4 ranked", "progress after restart");
    check((await page.locator("#saved").textContent()).includes("2 answers written"), "saved answers after restart");

    // 5. Rank, then undo: back to the same prompt and progress.
    await page.locator(".answer").first().focus();
    await page.keyboard.press("Enter");
    await waitForPrompt(page, samples[3].prompt);
    check((await progress(page)) === "3 / 4 ranked", "progress 3 / 4");
    await page.locator("#undo").click();
    await waitForPrompt(page, s3.prompt);
    check((await progress(page)) === "2 / 4 ranked", "progress after undo");

    // 6. Skip the third: the fourth comes next.
    await page.locator("#skip").click();
    await waitForPrompt(page, samples[3].prompt);
    check((await progress(page)) === "2 / 4 ranked · 1 skipped", "progress after skip");

    // 7. Ties by typing a rank and by dropping onto a card, then the skipped prompt returns.
    await page.locator(".answer").nth(3).focus();
    await page.keyboard.press("1");
    check((await shownTiers(page)).map((t) => t.length).join() === "2,1,1", "typed rank 1 ties with the best");
    const from = await page.locator(".answer").nth(3).boundingBox();
    const onto = await page.locator(".answer").nth(2).boundingBox();
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + from.width / 2, onto.y + onto.height / 2, { steps: 8 });
    await page.mouse.up();
    check((await shownTiers(page)).map((t) => t.length).join() === "2,2", "dropped onto a card: tied");
    await page.locator("#submit").click();
    await waitForPrompt(page, s3.prompt);
    check((await progress(page)) === "3 / 4 ranked · 1 skipped", "the skipped prompt comes back last");

    // An answer that hit the token limit is marked.
    await page.goto(server.url);
    await waitForPrompt(page, s3.prompt);
    check((await page.locator(".answer .cut").count()) === 0, "no cut-off answer here");

    check(problems.length === 0, problems.join("; "));
    console.log(JSON.stringify({ ok: true, restarted: true }));
  } finally {
    await context.close();
    await kill(server);
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
