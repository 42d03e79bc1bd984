// The native API as the pages use it: the API key, JSON calls, errors, and what this
// server offers (read once from its OpenAPI document, so the page adapts when access
// control, paths, shares or the event stream land without a second code path per guess).

const KEY = "filedock.apiKey";

export const auth = {
  get key() {
    return localStorage.getItem(KEY) || "";
  },
  set key(value) {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  },
  headers() {
    return this.key ? { Authorization: `Bearer ${this.key}` } : {};
  },
  /** A URL the browser opens by itself (download link, EventSource): no headers there. */
  url(path) {
    if (!this.key) return path;
    const sep = path.includes("?") ? "&" : "?";
    return `${path}${sep}access_token=${encodeURIComponent(this.key)}`;
  },
};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.code || "http_error";
    this.details = body?.details || {};
  }
  /** Worth trying again later: the network or the server, not the request. */
  get transient() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

export async function api(method, path, { json, signal } = {}) {
  const headers = { ...auth.headers() };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, { code: "network", message: "The server cannot be reached." });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

let featuresPromise;

/** What this server's API offers, from /openapi.json. */
export function features() {
  featuresPromise ??= fetch("/openapi.json", { headers: auth.headers() })
    .then((r) => (r.ok ? r.json() : { paths: {}, components: {} }))
    .catch(() => ({ paths: {}, components: {} }))
    .then((doc) => {
      const paths = doc.paths || {};
      const schemas = doc.components?.schemas || {};
      const create = schemas.CreateUpload?.properties || {};
      return {
        paths: "path" in create,
        movable: "path" in (schemas.UpdateFile?.properties || {}),
        ifExists: "if_exists" in create,
        shares: "/api/v1/files/{file_id}/shares" in paths,
        events: "/api/v1/events" in paths,
        uploadList: Boolean(paths["/api/v1/uploads"]?.get),
      };
    });
  return featuresPromise;
}

/** Where a file lives in the tenant's folders: its path if the server keeps one, else
 * the relative path this app stored in its metadata, else its name at the top. */
export function pathOf(file) {
  const path = file.path || file.metadata?.path || file.name;
  return path.startsWith("/") ? path : `/${path}`;
}

export function formatBytes(n) {
  if (n == null) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x) => String(x).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** Wire the shared API-key form (present on every page). */
export function setupLogin(form, onChange) {
  const input = form.querySelector("input");
  const status = form.querySelector("[data-status]");
  const show = () => {
    status.textContent = auth.key ? "Signed in with an API key." : "Anonymous (no key).";
  };
  input.value = auth.key;
  show();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    auth.key = input.value.trim();
    show();
    onChange?.();
  });
}
