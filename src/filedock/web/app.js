// The upload page: drop or pick files and folders, watch each file and the total, pause,
// resume or cancel them, answer path conflicts, and continue uploads left by a reload.

import { api, formatBytes, formatDuration, setupLogin } from "./api.js";
import { FileBrowser } from "./browser.js";
import { askChoice } from "./dialogs.js";
import { resumeStore } from "./resume.js";
import { Uploader } from "./uploader.js";

const $ = (id) => document.getElementById(id);
const TICK_S = 0.5;
const announce = (text) => {
  $("announce").textContent = text;
};

let conflictPolicy = null; // "apply to all" answer of the conflict dialog

async function resolveConflict(job, existing) {
  if (conflictPolicy) return conflictPolicy;
  const when = existing?.updated_at ? `, changed ${new Date(existing.updated_at).toLocaleString()}` : "";
  const size = existing?.size != null ? ` (${formatBytes(existing.size)}${when})` : "";
  $("conflict-text").textContent = `${job.path} already holds a file${size}.`;
  $("conflict-all").checked = false;
  const choice = (await askChoice($("conflict-dialog"))) || "skip";
  if ($("conflict-all").checked) conflictPolicy = choice;
  return choice;
}

const uploader = new Uploader({ resolveConflict });
const browser = new FileBrowser({ announce });
window.filedockUploader = uploader; // for the browser tests and the curious

/* ---- choosing files ---- */

function readEntry(entry) {
  if (entry.isFile) {
    return new Promise((resolve, reject) => entry.file((file) => resolve([{ file, path: entry.fullPath }]), reject));
  }
  const reader = entry.createReader();
  const all = [];
  const batch = () =>
    new Promise((resolve, reject) => reader.readEntries(resolve, reject)).then(async (entries) => {
      if (!entries.length) return all;
      for (const child of entries) all.push(...(await readEntry(child)));
      return batch();
    });
  return batch();
}

async function filesFromDrop(dataTransfer) {
  // Entries must be taken synchronously, before the first await ends the drop event.
  const items = [...dataTransfer.items].filter((item) => item.kind === "file");
  const taken = items.map((item) => [item.webkitGetAsEntry?.(), item.getAsFile()]);
  const out = [];
  for (const [entry, file] of taken) {
    if (entry) out.push(...(await readEntry(entry)));
    else if (file) out.push({ file, path: file.name });
  }
  return out;
}

function addFiles(entries) {
  if (!entries.length) return;
  conflictPolicy = null;
  uploader.add(entries);
  announce(`${entries.length} file(s) added to the uploads.`);
}

const dropzone = $("dropzone");
dropzone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropzone.classList.add("over");
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
dropzone.addEventListener("drop", async (event) => {
  event.preventDefault();
  dropzone.classList.remove("over");
  addFiles(await filesFromDrop(event.dataTransfer));
});
$("choose-files").addEventListener("click", () => $("pick-files").click());
$("choose-folder").addEventListener("click", () => $("pick-folder").click());
for (const input of [$("pick-files"), $("pick-folder")]) {
  input.addEventListener("change", () => {
    addFiles([...input.files].map((file) => ({ file, path: file.webkitRelativePath || file.name })));
    input.value = "";
  });
}

/* ---- the queue ---- */

const rows = new Map(); // job id -> {li, progress, status, toggle}

function button(label, onClick, ariaLabel) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  if (ariaLabel) b.setAttribute("aria-label", ariaLabel);
  b.addEventListener("click", onClick);
  return b;
}

function rowFor(job) {
  let row = rows.get(job.id);
  if (row) return row;
  const li = document.createElement("li");
  li.className = "job";
  const name = document.createElement("span");
  name.className = "name"; // filled by render(), with the labels that name the file
  const actions = document.createElement("span");
  actions.className = "actions";
  const toggle = button("Pause", () => (job.state in TOGGLE ? job.resume() : job.pause()));
  const cancel = button("Cancel", () => job.cancel());
  actions.append(toggle, cancel);
  const progress = document.createElement("progress");
  progress.max = 1;
  const status = document.createElement("span");
  status.className = "status";
  li.append(name, actions, progress, status);
  $("jobs").append(li);
  row = { li, name, progress, status, toggle, cancel };
  rows.set(job.id, row);
  return row;
}

const TOGGLE = { paused: "Resume", failed: "Retry", retrying: "Retry now" };
const FINAL = new Set(["done", "cancelled", "skipped"]);

function describe(job) {
  const fraction = job.size ? job.sent / job.size : 1;
  const pct = `${Math.floor(fraction * 100)}%`;
  if (job.state === "uploading") {
    const eta = job.speed > 0 ? formatDuration((job.size - job.sent) / job.speed) : "–";
    const resumed = job.resumedFrom != null ? ` · continued: ${formatBytes(job.resumedFrom)} were already there` : "";
    return `${pct} · ${formatBytes(job.sent)} of ${formatBytes(job.size)} · ${formatBytes(job.speed)}/s · ${eta} left${resumed}`;
  }
  if (job.state === "queued") return `Waiting · ${formatBytes(job.size)}`;
  return `${job.message || job.state} · ${pct} of ${formatBytes(job.size)}`;
}

function render() {
  $("queue").hidden = uploader.jobs.length === 0;
  for (const job of uploader.jobs) {
    const row = rowFor(job);
    row.li.dataset.state = job.state;
    if (row.name.textContent !== job.path) {
      row.name.textContent = job.path; // a new path after "keep both"
      row.progress.setAttribute("aria-label", `Progress of ${job.path}`);
      row.cancel.setAttribute("aria-label", `Cancel ${job.path}`);
    }
    row.progress.value = job.size ? job.sent / job.size : job.state === "done" ? 1 : 0;
    row.status.textContent = describe(job);
    const label = TOGGLE[job.state] || "Pause";
    if (row.toggle.textContent !== label) row.toggle.textContent = label;
    row.toggle.setAttribute("aria-label", `${label} ${job.path}`);
    row.toggle.disabled = FINAL.has(job.state) || job.state === "completing";
    row.cancel.disabled = FINAL.has(job.state);
  }
  const t = uploader.totals();
  $("total-progress").value = t.size ? t.sent / t.size : 0;
  const eta = t.speed > 0 ? ` · ${formatDuration((t.size - t.sent) / t.speed)} left` : "";
  $("total-text").textContent =
    `${t.done} of ${t.files} files · ${formatBytes(t.sent)} of ${formatBytes(t.size)} · ${formatBytes(t.speed)}/s${eta}`;
  renderUnfinished();
}

function renderUnfinished() {
  const inQueue = new Set(uploader.jobs.filter((job) => !FINAL.has(job.state)).map((job) => job.fp));
  const saved = Object.entries(resumeStore.all()).filter(([fp]) => !inQueue.has(fp));
  $("unfinished").hidden = saved.length === 0;
  const list = $("unfinished-list");
  const key = saved.map(([fp]) => fp).join("|");
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...saved.map(([fp, entry]) => unfinishedItem(fp, entry)));
}

/** One upload left by an earlier visit: what the server has of it, and what to do. */
function unfinishedItem(fp, entry) {
  const li = document.createElement("li");
  const label = document.createElement("span");
  label.textContent = `${entry.path} (${formatBytes(entry.size)})`;
  const forget = () => {
    resumeStore.drop(fp);
    render();
  };
  li.append(
    label,
    " ",
    button("Choose it again", () => $("pick-files").click(), `Choose ${entry.path} again to continue`),
    " ",
    button(
      "Discard",
      () => api("DELETE", `/api/v1/uploads/${entry.uploadId}`).catch(() => null).then(forget),
      `Discard the unfinished upload of ${entry.path}`,
    ),
  );
  api("GET", `/api/v1/uploads/${entry.uploadId}`)
    .then((upload) => {
      if (upload.state !== "receiving") return forget();
      const have = `${formatBytes(upload.bytes_received)} of ${formatBytes(entry.size)}`;
      label.textContent = `${entry.path}: ${have} on the server`;
    })
    .catch((err) => (err.transient ? null : forget()));
  return li;
}

uploader.addEventListener("change", render);
uploader.addEventListener("filedone", (event) => {
  announce(`${event.detail.path} is uploaded.`);
  browser.refreshSoon();
});
setInterval(() => {
  uploader.sample(TICK_S);
  render();
}, TICK_S * 1000);

$("pause-all").addEventListener("click", () => uploader.pauseAll());
$("resume-all").addEventListener("click", () => uploader.resumeAll());
$("cancel-all").addEventListener("click", () => uploader.cancelAll());
window.addEventListener("beforeunload", (event) => {
  if (uploader.jobs.some((job) => ["uploading", "starting", "completing"].includes(job.state))) {
    event.preventDefault(); // the browser asks; the upload resumes later anyway
  }
});

setupLogin($("login"), () => browser.load());
render();
browser.start();
