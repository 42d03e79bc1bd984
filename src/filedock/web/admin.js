// The admin view: every upload in progress in the tenant (GET /api/v1/uploads answers a
// tenant admin with everyone's) with a live progress bar and speed, who is uploading,
// recent failures with a retry, usage against the quota, jobs and /metrics highlights.
// Live from the event stream when the server has one; the listing is polled every second
// without it (speed from successive bytes_received), and every few seconds with it, to
// pick up what began before the page opened and to drop what ended.

import { api, features, formatBytes, setupLogin } from "./api.js";
import { card, loadMetrics, loadUsage } from "./adminstats.js";
import { subscribe } from "./events.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const POLL_LIVE_MS = 5000;
const FIGURES_MS = 3000;
const ACTIVE = new Set(["receiving", "assembling"]);
const ENDED = { "upload.completed": true, "upload.aborted": true, "upload.expired": true };
// upload id -> {id, path, owner, size, bytes, speed, state, error, created, at}
const uploads = new Map();
let pollMs = POLL_MS;

const nameOf = (u) => u.path || u.filename || u.id;

/** Merge what we learn about an upload (listing row or event). Without a speed from the
 * server, it is the bytes gained since the last reading over the time between them. */
function track(id, fields) {
  const now = Date.now();
  const old = uploads.get(id) || { id, speed: 0, bytes: 0 };
  const known = Object.fromEntries(Object.entries(fields).filter(([, v]) => v != null));
  const next = { ...old, ...known, at: now };
  if (fields.speed == null && old.at && fields.bytes != null && now > old.at) {
    const instant = (Math.max(0, next.bytes - old.bytes) * 1000) / (now - old.at);
    next.speed = old.speed ? 0.5 * old.speed + 0.5 * instant : instant;
  }
  uploads.set(id, next);
}

function fromListing(items) {
  const listed = new Set();
  for (const u of items) {
    listed.add(u.id);
    track(u.id, {
      path: u.path,
      filename: u.filename,
      owner: u.owner,
      size: u.size,
      bytes: u.bytes_received,
      state: u.state,
      error: u.error,
      created: u.created_at,
    });
  }
  for (const id of uploads.keys()) if (!listed.has(id)) uploads.delete(id); // finished, gone
}

function onEvent(event) {
  if (!event.upload_id) return;
  if (ENDED[event.type]) uploads.delete(event.upload_id);
  else {
    const data = event.data || {};
    track(event.upload_id, {
      owner: event.user,
      path: data.path,
      filename: data.filename,
      size: data.size,
      bytes: data.bytes_received,
      speed: data.bytes_per_second,
      state: event.type === "upload.failed" ? "failed" : event.type === "upload.progress" ? "receiving" : data.state,
      error: data.error,
      created: event.type === "upload.created" ? event.time : undefined,
    });
  }
  render();
}

async function loadUploads() {
  try {
    fromListing((await api("GET", "/api/v1/uploads")).items);
    $("active-note").textContent = "";
  } catch (err) {
    $("active-note").textContent = `Cannot list uploads: ${err.message}`;
  }
  render();
}

function td(text, label) {
  const cell = document.createElement("td");
  cell.dataset.label = label;
  if (text instanceof Node) cell.append(text);
  else cell.textContent = text ?? "–";
  return cell;
}

function progressOf(u) {
  const bar = document.createElement("progress");
  bar.max = u.size || 1;
  bar.value = Math.min(u.bytes || 0, bar.max);
  bar.setAttribute("aria-label", `Progress of ${nameOf(u)}`);
  const text = u.size
    ? ` ${Math.floor((100 * (u.bytes || 0)) / u.size)}% · ${formatBytes(u.bytes)} of ${formatBytes(u.size)}`
    : ` ${formatBytes(u.bytes)} (size not known yet)`;
  const wrap = document.createElement("span");
  wrap.append(bar, text);
  return wrap;
}

function retryButton(u) {
  const retry = document.createElement("button");
  retry.type = "button";
  retry.textContent = "Retry";
  retry.setAttribute("aria-label", `Retry ${nameOf(u)}`);
  retry.addEventListener("click", async () => {
    retry.disabled = true;
    try {
      await api("POST", `/api/v1/uploads/${u.id}/complete`, { json: {} });
      $("announce").textContent = `Retried ${nameOf(u)}: it is being assembled again.`;
    } catch (err) {
      $("announce").textContent = `Retry of ${nameOf(u)} failed: ${err.message}`;
    }
    retry.disabled = false;
    await loadUploads();
  });
  return retry;
}

/** "alice: 2 uploads, 3.1 MiB/s" for each user with an upload in progress. */
function renderUploaders(active) {
  const byUser = new Map();
  for (const u of active) {
    const who = byUser.get(u.owner || "–") || { count: 0, speed: 0 };
    byUser.set(u.owner || "–", { count: who.count + 1, speed: who.speed + (u.speed || 0) });
  }
  const parts = [...byUser].map(([user, w]) => `${user}: ${w.count} upload${w.count > 1 ? "s" : ""}, ${formatBytes(w.speed)}/s`);
  $("uploaders").textContent = parts.length ? `Uploading now: ${parts.join("; ")}.` : "Nobody is uploading.";
}

function render() {
  const all = [...uploads.values()].sort((a, b) => String(a.created).localeCompare(String(b.created)));
  const active = all.filter((u) => ACTIVE.has(u.state));
  renderUploaders(active);
  $("active").tBodies[0].replaceChildren(
    ...active.map((u) => {
      const tr = document.createElement("tr");
      tr.dataset.uploadId = u.id;
      tr.append(
        td(nameOf(u), "File"),
        td(u.owner, "Who"),
        td(progressOf(u), "Progress"),
        td(`${formatBytes(u.speed)}/s`, "Speed"),
        td(u.state, "State"),
      );
      return tr;
    }),
  );
  // Redrawn only when the set changes, so that a Retry button keeps its focus.
  const failed = all.filter((u) => u.state === "failed").slice(-20);
  const body = $("failed").tBodies[0];
  const key = failed.map((u) => `${u.id}:${u.error}`).join("|");
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  body.replaceChildren(
    ...failed.map((u) => {
      const tr = document.createElement("tr");
      tr.dataset.uploadId = u.id;
      tr.append(
        td(nameOf(u), "File"),
        td(u.owner, "Who"),
        td(u.error || "no reason recorded", "Reason"),
        td(u.created ? new Date(u.created).toLocaleString() : "–", "Started"),
        td(retryButton(u), "Actions"),
      );
      return tr;
    }),
  );
  if (!failed.length) {
    const tr = document.createElement("tr");
    const cell = td("No failed uploads.", "");
    cell.colSpan = 5;
    tr.append(cell);
    body.replaceChildren(tr);
  }
}

function every(ms, task) {
  const loop = async () => {
    await task();
    setTimeout(loop, typeof ms === "function" ? ms() : ms);
  };
  loop();
}

async function main() {
  setupLogin($("login"), () => location.reload());
  $("cards").replaceChildren(card("uploads receiving", "…"));
  if ((await features()).events) {
    subscribe(onEvent, (mode) => {
      pollMs = mode === "live" ? POLL_LIVE_MS : POLL_MS;
      $("live-mode").textContent = mode === "live" ? "Live (event stream)." : `Updates: ${mode}, every second.`;
    });
  }
  every(() => pollMs, loadUploads);
  every(FIGURES_MS, () => Promise.all([loadMetrics(), loadUsage()]));
}

main();
