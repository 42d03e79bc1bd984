// The admin view: uploads in progress with live progress and speed (the event stream,
// and the upload listing when the server has one), recent failures with a retry, jobs,
// and /metrics highlights. Every figure is re-read every few seconds.

import { api, auth, features, formatBytes, setupLogin } from "./api.js";
import { subscribe } from "./events.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 3000;
const uploads = new Map(); // upload id -> {id, filename, user, size, bytes, speed, state, error, at}
let lastBytes = null;

/** Prometheus text format -> [{name, labels, value}] (enough for our own counters). */
export function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!match) continue;
    const labels = {};
    for (const [, k, v] of (match[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v;
    out.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return out;
}

const sum = (samples, name, test = () => true) =>
  samples.filter((s) => s.name === name && test(s.labels)).reduce((a, s) => a + s.value, 0);

function card(label, value, detail = "") {
  const div = document.createElement("div");
  div.className = "card";
  const v = document.createElement("div");
  v.className = "value";
  v.textContent = value;
  const l = document.createElement("div");
  l.textContent = label;
  const d = document.createElement("div");
  d.className = "muted";
  d.textContent = detail;
  div.append(v, l, d);
  return div;
}

async function loadMetrics() {
  let samples;
  try {
    const response = await fetch("/metrics", { headers: auth.headers() });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    samples = parseMetrics(await response.text());
    $("metrics-note").textContent = "";
  } catch (err) {
    $("metrics-note").textContent = `Cannot read /metrics: ${err.message}`;
    return;
  }
  const bytes = sum(samples, "filedock_received_bytes_total");
  const rate = lastBytes === null ? 0 : Math.max(0, bytes - lastBytes) / (REFRESH_MS / 1000);
  lastBytes = bytes;
  const errors = samples.filter((s) => s.name === "filedock_errors_total" && s.value > 0);
  errors.sort((a, b) => b.value - a.value);
  const receiving = sum(samples, "filedock_uploads_in_progress", (l) => l.state === "receiving");
  const assembling = sum(samples, "filedock_uploads_in_progress", (l) => l.state === "assembling");
  $("cards").replaceChildren(
    card("uploads receiving", String(receiving), `${assembling} assembling`),
    card("bytes received", formatBytes(bytes), `${formatBytes(rate)}/s now`),
    card("requests", String(sum(samples, "filedock_requests_total"))),
    card(
      "errors",
      String(errors.reduce((a, s) => a + s.value, 0)),
      errors.slice(0, 3).map((s) => `${s.labels.code} ${s.value}`).join(", "),
    ),
  );
  const jobs = samples.filter((s) => s.name === "filedock_jobs" && s.value > 0);
  $("jobs-cards").replaceChildren(
    ...(jobs.length ? jobs.map((s) => card(`${s.labels.kind} ${s.labels.state}`, String(s.value))) : [card("jobs", "0", "none recorded")]),
  );
}

/** Merge what we learn about an upload (listing row or event) into the table's state. */
function track(id, fields) {
  const now = Date.now();
  const old = uploads.get(id) || { id, speed: 0, bytes: 0 };
  const next = { ...old, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v != null)), at: now };
  if (old.at && next.bytes > old.bytes) next.speed = ((next.bytes - old.bytes) * 1000) / (now - old.at);
  uploads.set(id, next);
}

function onEvent(event) {
  if (!event.upload_id) return;
  const data = event.data || {};
  const state = { "upload.completed": "completed", "upload.failed": "failed", "upload.aborted": "aborted" }[event.type];
  track(event.upload_id, {
    user: event.user,
    filename: data.filename,
    size: data.size,
    bytes: data.bytes_received ?? data.offset,
    state: state || (event.type === "upload.progress" ? "receiving" : undefined),
    error: data.error,
  });
  render();
}

async function loadUploads(offers) {
  if (!offers.uploadList) return;
  try {
    const listing = await api("GET", "/api/v1/uploads?limit=200");
    for (const u of listing.items || listing) {
      track(u.id, { filename: u.filename, user: u.user, size: u.size, bytes: u.bytes_received, state: u.state, error: u.error });
    }
    render();
  } catch (err) {
    $("active-note").textContent = err.status === 403 ? "Only tenant admins see every upload." : `Cannot list uploads: ${err.message}`;
  }
}

function td(text, label) {
  const cell = document.createElement("td");
  cell.dataset.label = label;
  if (text instanceof Node) cell.append(text);
  else cell.textContent = text ?? "–";
  return cell;
}

function render() {
  const all = [...uploads.values()];
  const active = all.filter((u) => u.state === "receiving" || u.state === "assembling");
  $("active").tBodies[0].replaceChildren(
    ...active.map((u) => {
      const bar = document.createElement("progress");
      bar.max = u.size || 1;
      bar.value = Math.min(u.bytes || 0, bar.max);
      bar.setAttribute("aria-label", `Progress of ${u.filename || u.id}`);
      const pct = u.size ? ` ${Math.floor((100 * (u.bytes || 0)) / u.size)}%` : "";
      const wrap = document.createElement("span");
      wrap.append(bar, pct);
      const tr = document.createElement("tr");
      tr.dataset.uploadId = u.id;
      tr.append(
        td(u.filename || u.id, "File"),
        td(u.user, "Who"),
        td(wrap, "Progress"),
        td(`${formatBytes(u.speed)}/s`, "Speed"),
        td(u.state, "State"),
      );
      return tr;
    }),
  );
  const failed = all.filter((u) => u.state === "failed").slice(-20);
  $("failed").tBodies[0].replaceChildren(
    ...failed.map((u) => {
      const retry = document.createElement("button");
      retry.type = "button";
      retry.textContent = "Retry";
      retry.setAttribute("aria-label", `Retry ${u.filename || u.id}`);
      retry.addEventListener("click", async () => {
        try {
          await api("POST", `/api/v1/uploads/${u.id}/complete`, { json: {} });
          track(u.id, { state: "completed" });
          $("announce").textContent = `Retried ${u.filename || u.id}.`;
        } catch (err) {
          $("announce").textContent = `Retry failed: ${err.message}`;
        }
        render();
      });
      const tr = document.createElement("tr");
      tr.append(
        td(u.filename || u.id, "File"),
        td(u.user, "Who"),
        td(u.error, "Reason"),
        td(new Date(u.at).toLocaleString(), "When"),
        td(retry, "Actions"),
      );
      return tr;
    }),
  );
}

async function main() {
  setupLogin($("login"), () => location.reload());
  const offers = await features();
  const notes = [];
  if (!offers.uploadList) notes.push("This server does not list uploads yet (no GET /api/v1/uploads): uploads appear here as their events arrive; the count above comes from /metrics.");
  if (!offers.events) notes.push("No event stream on this server yet (GET /api/v1/events): progress is not live.");
  $("active-note").textContent = notes.join(" ");
  if (offers.events) subscribe(onEvent);
  const refresh = () => Promise.all([loadMetrics(), loadUploads(offers)]);
  await refresh();
  render();
  setInterval(refresh, REFRESH_MS);
}

main();
