// The file browser: folders (from each file's path), size, type, date and uploader;
// download, rename/move, delete, share; search by name prefix; live updates.

import { api, auth, features, formatBytes, pathOf } from "./api.js";
import { askChoice, confirmDelete } from "./dialogs.js";
import { subscribe } from "./events.js";

const LIMIT = 1000;
const $ = (id) => document.getElementById(id);
const REFRESHING = new Set(["poll", "upload.completed", "file.created", "file.updated", "file.deleted"]);

function cell(label, content) {
  const td = document.createElement("td");
  td.dataset.label = label;
  if (content instanceof Node) td.append(content);
  else td.textContent = content;
  return td;
}

function actionButton(label, aria, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", aria);
  b.addEventListener("click", onClick);
  return b;
}

export class FileBrowser {
  constructor({ announce }) {
    this.announce = announce;
    this.folder = "/";
    this.items = [];
    this.timer = null;
    $("search").addEventListener("input", () => this.refreshSoon(250));
  }

  async start() {
    this.offers = await features();
    await this.load();
    subscribe(
      (event) => {
        if (REFRESHING.has(event.type)) this.refreshSoon();
      },
      (mode) => {
        $("live-status").textContent = mode === "live" ? "Live updates on." : `Updates: ${mode}.`;
      },
    );
  }

  refreshSoon(ms = 300) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), ms);
  }

  async load() {
    const search = $("search").value.trim();
    const query = new URLSearchParams({ limit: String(LIMIT) });
    if (search) query.set("prefix", search);
    try {
      const listing = await api("GET", `/api/v1/files?${query}`);
      this.items = listing.items;
      $("files-note").textContent =
        listing.total > listing.items.length ? `Showing the newest ${listing.items.length} of ${listing.total} files.` : "";
    } catch (err) {
      $("files-note").textContent = `Cannot list files: ${err.message}`;
      this.items = [];
    }
    this.render(search);
  }

  /** Subfolders and files directly in the current folder (or every match when searching). */
  view(search) {
    if (search) return { folders: [], files: this.items };
    const folders = new Set();
    const files = [];
    for (const file of this.items) {
      const path = pathOf(file);
      if (!path.startsWith(this.folder)) continue;
      const rest = path.slice(this.folder.length);
      const slash = rest.indexOf("/");
      if (slash >= 0) folders.add(rest.slice(0, slash));
      else files.push(file);
    }
    return { folders: [...folders].sort(), files };
  }

  render(search) {
    this.renderCrumbs(search);
    const { folders, files } = this.view(search);
    const rows = folders.map((name) => this.folderRow(name));
    rows.push(...files.map((file) => this.fileRow(file)));
    if (!rows.length) {
      const tr = document.createElement("tr");
      const td = cell("", search ? "No file name starts with that." : "No files here yet.");
      td.colSpan = 6;
      tr.append(td);
      rows.push(tr);
    }
    $("files").tBodies[0].replaceChildren(...rows);
  }

  renderCrumbs(search) {
    const crumbs = $("crumbs");
    if (search) return crumbs.replaceChildren(`Search results for “${search}”`);
    const parts = this.folder.split("/").filter(Boolean);
    const go = (folder) => () => {
      this.folder = folder;
      this.render("");
    };
    const nodes = [actionButton("All files", "All files (top folder)", go("/"))];
    parts.forEach((part, i) => {
      nodes.push(" / ", actionButton(part, `Folder ${part}`, go(`/${parts.slice(0, i + 1).join("/")}/`)));
    });
    nodes.at(-1).setAttribute("aria-current", "location");
    crumbs.replaceChildren(...nodes);
  }

  folderRow(name) {
    const tr = document.createElement("tr");
    const open = actionButton(`${name}/`, `Open folder ${name}`, () => {
      this.folder = `${this.folder}${name}/`;
      this.render("");
      $("crumbs").querySelector("[aria-current]")?.focus();
    });
    open.className = "folder";
    tr.append(cell("Name", open), cell("Size", ""), cell("Type", "folder"), cell("Modified", ""));
    tr.append(cell("Uploader", ""), cell("Actions", ""));
    return tr;
  }

  fileRow(file) {
    const tr = document.createElement("tr");
    const path = pathOf(file);
    const label = path.slice(path.lastIndexOf("/") + 1);
    const download = document.createElement("a");
    download.href = auth.url(`/api/v1/files/${file.id}/content`);
    download.textContent = "Download";
    download.setAttribute("aria-label", `Download ${label}`);
    download.setAttribute("download", label);
    const actions = document.createElement("td");
    actions.className = "actions";
    actions.dataset.label = "Actions";
    actions.append(
      download,
      actionButton("Rename", `Rename or move ${label}`, () => this.rename(file)),
      actionButton("Delete", `Delete ${label}`, () => this.remove(file)),
    );
    if (this.offers?.shares) actions.append(actionButton("Share", `Share ${label}`, () => this.share(file)));
    tr.append(
      cell("Name", label),
      cell("Size", formatBytes(file.size)),
      cell("Type", file.content_type),
      cell("Modified", new Date(file.updated_at).toLocaleString()),
      cell("Uploader", file.owner || "–"),
      actions,
    );
    tr.dataset.fileId = file.id;
    return tr;
  }

  async rename(file) {
    const dialog = $("rename-dialog");
    const input = $("rename-input");
    input.value = pathOf(file);
    if ((await askChoice(dialog)) !== "ok") return;
    const target = input.value.trim().startsWith("/") ? input.value.trim() : `/${input.value.trim()}`;
    const name = target.slice(target.lastIndexOf("/") + 1);
    if (!name) return this.announce("A path must end with a file name.");
    const change = this.offers.movable
      ? { path: target }
      : { name, metadata: { ...file.metadata, path: target } };
    await this.act(api("PATCH", `/api/v1/files/${file.id}`, { json: change }), `Moved to ${target}.`);
  }

  async remove(file) {
    if (!(await confirmDelete($("confirm-dialog"), `Delete ${pathOf(file)}? This cannot be undone.`))) return;
    await this.act(api("DELETE", `/api/v1/files/${file.id}`), `Deleted ${pathOf(file)}.`);
  }

  async share(file) {
    const dialog = $("share-dialog");
    const url = $("share-url");
    url.value = "";
    const create = async () => {
      try {
        const expires_in = Number($("share-expiry").value);
        const link = await api("POST", `/api/v1/files/${file.id}/shares`, { json: { expires_in } });
        url.value = new URL(link.url, location.origin).href;
        url.select();
      } catch (err) {
        url.value = `Cannot share: ${err.message}`;
      }
    };
    // The clipboard API needs a secure context (https or localhost); elsewhere the
    // selected text is copied the old way.
    const copy = async () => {
      if (!url.value.includes("/s/")) return this.announce("Create the link first.");
      url.select();
      const copied = await navigator.clipboard
        ?.writeText(url.value)
        .then(() => true)
        .catch(() => false);
      const ok = copied || document.execCommand("copy");
      this.announce(ok ? "Link copied." : "Copy the selected link with Ctrl+C.");
    };
    $("share-create").onclick = create;
    $("share-copy").onclick = copy;
    await askChoice(dialog);
  }

  async act(promise, done) {
    try {
      await promise;
      this.announce(done);
    } catch (err) {
      this.announce(`Failed: ${err.message}`);
    }
    await this.load();
  }
}
