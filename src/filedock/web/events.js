// Live updates: the server's event stream (SSE, GET /api/v1/events) when it offers one,
// else a poll every few seconds. Either way the handler gets {type, ...}; polling sends
// {type: "poll"} so the caller simply reloads what it shows.

import { auth, features } from "./api.js";

const POLL_MS = 4000;
const TYPES = [
  "upload.created",
  "upload.progress",
  "upload.completed",
  "upload.failed",
  "upload.aborted",
  "upload.expired",
  "file.created",
  "file.updated",
  "file.deleted",
  "job.updated",
];

/** Calls onEvent for each event; onMode("live" | "polling") says which way it listens. */
export async function subscribe(onEvent, onMode = () => {}) {
  const poll = () => {
    onMode("polling");
    setInterval(() => onEvent({ type: "poll" }), POLL_MS);
  };
  if (!(await features()).events) return poll();
  const source = new EventSource(auth.url("/api/v1/events"));
  let opened = false;
  const handle = (message) => {
    try {
      onEvent(JSON.parse(message.data));
    } catch {
      // a keep-alive or a line this page does not know
    }
  };
  source.onmessage = handle;
  for (const type of TYPES) source.addEventListener(type, handle);
  source.onopen = () => {
    opened = true;
    onMode("live");
  };
  // EventSource reconnects by itself after a drop; a stream that never opened (404,
  // 401, no such route behind a proxy) is given up for polling.
  source.onerror = () => {
    if (!opened) {
      source.close();
      poll();
    } else {
      onMode("reconnecting");
    }
  };
}
