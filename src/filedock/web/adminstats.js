// The admin view's figures: /metrics highlights (requests, bytes, errors, jobs) and the
// tenant's usage against its quota (GET /api/v1/usage). Each loader redraws its cards.

import { api, auth, formatBytes } from "./api.js";

const $ = (id) => document.getElementById(id);

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

/** A figure with its label and a detail line; `fraction` (0..1) adds a bar. */
export function card(label, value, detail = "", fraction = null) {
  const div = document.createElement("div");
  div.className = "card";
  const v = document.createElement("div");
  v.className = "value";
  v.textContent = value;
  const l = document.createElement("div");
  l.textContent = label;
  div.append(v, l);
  if (fraction !== null) {
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = Math.min(1, fraction);
    bar.setAttribute("aria-label", label);
    div.append(bar);
  }
  const d = document.createElement("div");
  d.className = "muted";
  d.textContent = detail;
  div.append(d);
  return div;
}

let last = null; // {bytes, at} of the previous /metrics reading

export async function loadMetrics() {
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
  const now = Date.now();
  const rate = last && now > last.at ? (Math.max(0, bytes - last.bytes) * 1000) / (now - last.at) : 0;
  last = { bytes, at: now };
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

/** "used of limit (n%)" with a bar, or "no limit". */
function against(used, limit, format) {
  if (limit == null) return ["no limit", null];
  return [`of ${format(limit)} (${Math.floor((100 * used) / Math.max(1, limit))}%)`, used / Math.max(1, limit)];
}

export async function loadUsage() {
  let usage;
  try {
    usage = await api("GET", "/api/v1/usage");
    $("usage-note").textContent = "";
  } catch (err) {
    $("usage-note").textContent = `Cannot read the usage: ${err.message}`;
    return;
  }
  const { limits } = usage;
  const slots = usage.files + usage.uploads;
  $("usage").replaceChildren(
    card(`storage of ${usage.tenant}`, formatBytes(usage.bytes_used), ...against(usage.bytes_used, limits.max_bytes, formatBytes)),
    card("files and unfinished uploads", String(slots), ...against(slots, limits.max_files, String)),
    card("held by unfinished uploads", formatBytes(usage.staged_bytes), `${usage.uploads} upload(s)`),
    card(
      "largest file allowed",
      limits.max_file_size == null ? "no limit" : formatBytes(limits.max_file_size),
      limits.allowed_types ? `types: ${limits.allowed_types.join(", ")}` : "any type",
    ),
  );
}
