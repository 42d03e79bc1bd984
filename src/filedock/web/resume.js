// What survives a reload or a browser restart: for each unfinished upload, the server's
// upload id under a fingerprint of the file (path, size, modification time), in
// localStorage. The browser cannot reopen a file by itself; when the user chooses the
// same file again, its fingerprint finds the upload and the server says what is missing.

const STORE = "filedock.uploads";

/** Unfinished uploads of this browser: fingerprint -> {uploadId, path, size, ...}. */
export const resumeStore = {
  all() {
    try {
      return JSON.parse(localStorage.getItem(STORE)) || {};
    } catch {
      return {};
    }
  },
  get(fp) {
    return this.all()[fp];
  },
  put(fp, entry) {
    localStorage.setItem(STORE, JSON.stringify({ ...this.all(), [fp]: entry }));
  },
  drop(fp) {
    const all = this.all();
    delete all[fp];
    localStorage.setItem(STORE, JSON.stringify(all));
  },
};

/** The same file chosen again after a reload gives the same fingerprint. */
export function fingerprint(file, path) {
  return ["v1", path, file.size, file.lastModified].join(":");
}

/** A file picked again without its folder (a plain file picker) still finds the upload
 * that was started for it from a dropped folder. */
export function savedPath(file, path) {
  const absolute = path.startsWith("/") ? path : `/${path}`;
  if (resumeStore.get(fingerprint(file, absolute))) return absolute;
  const same = Object.values(resumeStore.all()).find(
    (saved) =>
      saved.size === file.size &&
      saved.lastModified === file.lastModified &&
      saved.path.endsWith(`/${file.name}`),
  );
  return same ? same.path : absolute;
}
