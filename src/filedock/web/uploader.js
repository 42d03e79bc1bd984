// The upload engine over the native chunk API: several files at once, their chunks in
// parallel with a bounded number of requests in flight, pause/resume/cancel, retry with
// backoff when the network drops, and resume after a reload (resume.js keeps the
// server's upload id; the server says which chunks it is missing, only those are sent).

import { ApiError, api, auth, features, pathOf } from "./api.js";
import { fingerprint, resumeStore, savedPath } from "./resume.js";

const MAX_BACKOFF_S = 30;

/** Pick a free "name (n).ext" beside the taken paths (client-side "keep both"). */
function freePath(path, taken) {
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 1; ; n += 1) {
    const candidate = `${dir}${stem} (${n})${ext}`;
    if (!taken.has(candidate)) return candidate;
  }
}

const ACTIVE = new Set(["starting", "uploading", "retrying", "completing"]);

class Job {
  constructor(uploader, file, relPath) {
    this.uploader = uploader;
    this.file = file;
    this.path = relPath;
    this.fp = fingerprint(file, this.path);
    this.id = crypto.randomUUID();
    this.state = "queued";
    this.message = "";
    this.pending = [];
    this.inflight = new Map(); // chunk index -> XMLHttpRequest
    this.loaded = new Map(); // chunk index -> bytes of it sent so far
    this.confirmed = 0; // bytes the server has recorded
    this.attempt = 0;
    this.replaces = null; // id of the file a client-side "overwrite" deletes at the end
    this.resumedFrom = null; // bytes the server already had when it answered "resumed"
    this.speed = 0;
    this.lastSent = 0;
  }

  get size() {
    return this.file.size;
  }

  get sent() {
    let bytes = this.confirmed;
    for (const n of this.loaded.values()) bytes += n;
    return Math.min(bytes, this.size);
  }

  get name() {
    return this.path.slice(this.path.lastIndexOf("/") + 1);
  }

  set(state, message = "") {
    this.state = state;
    this.message = message;
    this.uploader.changed();
  }

  async start() {
    this.set("starting", "Checking the server…");
    try {
      const upload = (await this.resumable()) || (await this.create());
      if (!upload) return; // skipped at a conflict
      this.adopt(upload);
      resumeStore.put(this.fp, {
        uploadId: this.uploadId,
        path: this.path,
        size: this.size,
        lastModified: this.file.lastModified,
        savedAt: Date.now(),
      });
      this.set("uploading");
      this.next();
    } catch (err) {
      this.failOrRetry(err);
    }
  }

  /** The unfinished upload of this same file that this browser started before, if any. */
  async resumable() {
    const saved = resumeStore.get(this.fp);
    if (!saved) return null;
    try {
      const upload = await api("GET", `/api/v1/uploads/${saved.uploadId}`);
      if (upload.state === "receiving") return upload;
    } catch (err) {
      if (err instanceof ApiError && err.transient) throw err;
    }
    resumeStore.drop(this.fp);
    return null;
  }

  async create(ifExists) {
    const offers = await features();
    if (!offers.paths && !ifExists && (await this.clientSideConflict()) === "skip") return null;
    const spec = { filename: this.name, size: this.size, metadata: { path: this.path } };
    if (this.file.type) spec.content_type = this.file.type;
    if (offers.paths) {
      spec.path = this.path;
      spec.if_exists = ifExists || "fail";
    }
    let upload;
    try {
      upload = await api("POST", "/api/v1/uploads", { json: spec });
    } catch (err) {
      if (err.code === "path_exists" && !ifExists) {
        const choice = await this.uploader.resolveConflict(this, err.details.existing);
        if (choice === "skip") return this.skip();
        return this.create(choice);
      }
      if (err.code === "path_busy") {
        const since = err.details.since ? ` since ${new Date(err.details.since).toLocaleString()}` : "";
        throw new ApiError(409, {
          code: "path_busy",
          message: `${err.details.user || "Someone"} is uploading to this path${since}.`,
        });
      }
      throw err;
    }
    // 200 resumed: this user's own unfinished upload to the path, continued with only its
    // missing chunks, unless it was begun for a file of another size.
    if (upload.resumed && upload.size != null && upload.size !== this.size) {
      throw new ApiError(409, {
        code: "upload_mismatch",
        message: `You have an unfinished upload of another file (${upload.size} bytes) to this path; cancel it or choose another path.`,
      });
    }
    this.resumedFrom = upload.resumed ? upload.bytes_received : null;
    return upload;
  }

  /** Until the server keeps paths itself: look for a file at this path in the listing
   * and apply the choice here (overwrite = delete the old one once the new one is in). */
  async clientSideConflict() {
    const listing = await api("GET", `/api/v1/files?prefix=${encodeURIComponent(this.name.slice(0, 200))}&limit=1000`);
    const taken = new Map(listing.items.map((item) => [pathOf(item), item]));
    const existing = taken.get(this.path);
    if (!existing) return "none";
    const choice = await this.uploader.resolveConflict(this, existing);
    if (choice === "skip") this.skip();
    else if (choice === "overwrite") this.replaces = existing.id;
    else {
      this.path = freePath(this.path, new Set(taken.keys()));
      this.fp = fingerprint(this.file, this.path);
    }
    return choice;
  }

  skip() {
    this.set("skipped", "Skipped: a file is already at this path.");
    return null;
  }

  adopt(upload) {
    this.uploadId = upload.id;
    this.chunkSize = upload.chunk_size;
    this.pending = [...upload.missing_chunks];
    this.confirmed = upload.bytes_received;
    this.lastSent = this.sent;
  }

  /** Ask the server what it has, then carry on (after a pause, a retry or a lost answer). */
  async refresh() {
    if (!this.uploadId) return this.start();
    this.set("starting", "Asking the server which chunks it has…");
    try {
      const upload = await api("GET", `/api/v1/uploads/${this.uploadId}`);
      if (this.state !== "starting") return; // paused or cancelled meanwhile
      if (upload.state === "assembling") return this.complete();
      if (upload.state !== "receiving") return this.settle(upload);
      this.adopt(upload);
      this.set("uploading");
      this.next();
    } catch (err) {
      this.failOrRetry(err);
    }
  }

  next() {
    if (this.state === "uploading" && !this.pending.length && !this.inflight.size) {
      this.complete();
    }
    this.uploader.pump();
  }

  takeChunk() {
    return this.state === "uploading" ? this.pending.shift() : undefined;
  }

  sendChunk(index) {
    const start = index * this.chunkSize;
    const end = Math.min(this.size, start + this.chunkSize);
    const xhr = new XMLHttpRequest();
    this.inflight.set(index, xhr);
    xhr.open("PUT", `/api/v1/uploads/${this.uploadId}/chunks/${index}`);
    for (const [name, value] of Object.entries(auth.headers())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (event) => this.loaded.set(index, event.loaded);
    const done = (outcome) => {
      this.inflight.delete(index);
      this.loaded.delete(index);
      this.chunkDone(index, end - start, outcome, xhr);
    };
    xhr.onload = () => done(xhr.status);
    xhr.onerror = () => done(0);
    xhr.ontimeout = () => done(0);
    xhr.onabort = () => done("aborted");
    xhr.send(this.file.slice(start, end));
  }

  chunkDone(index, length, outcome, xhr) {
    if (outcome === "aborted") {
      if (this.state !== "cancelled") this.pending.unshift(index);
      return this.uploader.pump();
    }
    if (outcome >= 200 && outcome < 300) {
      this.confirmed += length;
      this.attempt = 0;
      return this.next();
    }
    this.pending.unshift(index);
    let body = null;
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      // no JSON body: a proxy's error page or no answer at all
    }
    this.failOrRetry(new ApiError(outcome, body));
  }

  /** A network loss or a server error is retried with backoff; anything else stops. */
  failOrRetry(err) {
    if (["paused", "cancelled", "failed"].includes(this.state)) return;
    if (err instanceof ApiError && (err.transient || err.code === "upload_busy")) {
      return this.backoff(err);
    }
    if (err instanceof ApiError && ["upload_not_found", "upload_expired"].includes(err.code)) {
      resumeStore.drop(this.fp);
      this.uploadId = undefined; // "Retry" starts a new upload
    }
    this.abortInflight();
    this.set("failed", err.message || String(err));
  }

  backoff(err) {
    if (this.state === "retrying") return; // several chunks failing at once: one wait
    this.abortInflight();
    this.attempt += 1;
    const seconds = Math.min(MAX_BACKOFF_S, 2 ** (this.attempt - 1)) * (0.75 + Math.random() / 2);
    this.retryAt = Date.now() + seconds * 1000;
    const reason = err.status === 0 ? "Connection lost" : err.message;
    this.set("retrying", `${reason}; retrying (attempt ${this.attempt})…`);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.retryNow(), seconds * 1000);
  }

  retryNow() {
    if (this.state !== "retrying") return;
    clearTimeout(this.timer);
    this.uploadId ? this.refresh() : this.start();
  }

  async complete() {
    this.set("completing", "Assembling the file…");
    try {
      let result = await api("POST", `/api/v1/uploads/${this.uploadId}/complete`, { json: {} });
      while (result && !("sha256" in result) && result.state !== "failed") {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        if (this.state !== "completing") return;
        result = await api("GET", `/api/v1/uploads/${this.uploadId}`);
        if (result.state === "completed") result = { id: result.file_id, sha256: true };
      }
      await this.settle(result);
    } catch (err) {
      if (err.code === "upload_incomplete") return this.refresh();
      this.failOrRetry(err);
    }
  }

  /** The end of the road: a file (FileOut or a completed upload) or a failed upload. */
  async settle(result) {
    resumeStore.drop(this.fp);
    if (result.state === "failed") return this.set("failed", result.error || "The server could not assemble the file.");
    if (result.state === "aborted" || result.state === "expired") return this.set("failed", `The upload was ${result.state}.`);
    this.fileId = result.file_id || result.id;
    this.confirmed = this.size;
    if (this.replaces) await api("DELETE", `/api/v1/files/${this.replaces}`).catch(() => null);
    this.set("done", "Done");
    this.uploader.dispatchEvent(new CustomEvent("filedone", { detail: this }));
  }

  abortInflight() {
    for (const xhr of [...this.inflight.values()]) xhr.abort();
  }

  pause() {
    const still = ["queued", "completing", "done", "failed", "cancelled", "skipped", "paused"];
    if (still.includes(this.state)) {
      if (this.state === "queued") this.set("paused", "Paused");
      return;
    }
    clearTimeout(this.timer);
    this.set("paused", "Paused");
    this.abortInflight();
  }

  resume() {
    if (this.state === "paused") {
      if (this.uploadId) this.refresh();
      else this.set("queued");
      this.uploader.pump();
    } else if (this.state === "retrying" || this.state === "failed") {
      this.state = "retrying";
      this.retryNow();
    }
  }

  async cancel() {
    if (["done", "cancelled", "skipped"].includes(this.state)) return;
    clearTimeout(this.timer);
    this.set("cancelled", "Cancelled");
    this.abortInflight();
    resumeStore.drop(this.fp);
    if (this.uploadId) await api("DELETE", `/api/v1/uploads/${this.uploadId}`).catch(() => null);
    this.uploader.pump();
  }
}

export class Uploader extends EventTarget {
  constructor({ maxRequests = 4, maxFiles = 3, resolveConflict }) {
    super();
    this.maxRequests = maxRequests;
    this.maxFiles = maxFiles;
    this.resolveConflict = resolveConflict;
    this.jobs = [];
    this.turn = 0;
    window.addEventListener("online", () => {
      for (const job of this.jobs) job.retryNow();
    });
  }

  add(entries) {
    for (const { file, path } of entries) this.jobs.push(new Job(this, file, savedPath(file, path)));
    this.changed();
    this.pump();
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  /** Start queued files while fewer than maxFiles are active, then fill the request
   * slots round-robin over the files that have chunks to send. */
  pump() {
    let active = this.jobs.filter((job) => ACTIVE.has(job.state)).length;
    for (const job of this.jobs) {
      if (active >= this.maxFiles) break;
      if (job.state === "queued") {
        active += 1;
        job.start();
      }
    }
    let inflight = this.jobs.reduce((sum, job) => sum + job.inflight.size, 0);
    while (inflight < this.maxRequests) {
      const sending = this.jobs.filter((job) => job.state === "uploading" && job.pending.length);
      if (!sending.length) break;
      const job = sending[this.turn++ % sending.length];
      job.sendChunk(job.takeChunk());
      inflight += 1;
    }
  }

  /** Total bytes, bytes sent and speed of the files still in play (done ones included). */
  totals() {
    const counted = this.jobs.filter((job) => !["cancelled", "skipped"].includes(job.state));
    return {
      size: counted.reduce((sum, job) => sum + job.size, 0),
      sent: counted.reduce((sum, job) => sum + job.sent, 0),
      speed: counted.reduce((sum, job) => sum + (ACTIVE.has(job.state) ? job.speed : 0), 0),
      files: counted.length,
      done: counted.filter((job) => job.state === "done").length,
    };
  }

  /** Update each file's speed (a moving average over the UI's ticks). */
  sample(seconds) {
    for (const job of this.jobs) {
      const sent = job.sent;
      const now = Math.max(0, sent - job.lastSent) / seconds;
      job.speed = ACTIVE.has(job.state) ? job.speed * 0.7 + now * 0.3 : 0;
      job.lastSent = sent;
    }
  }

  pauseAll() {
    for (const job of this.jobs) job.pause();
  }

  resumeAll() {
    for (const job of this.jobs) if (job.state === "paused") job.resume();
  }

  cancelAll() {
    for (const job of this.jobs) job.cancel();
  }
}
