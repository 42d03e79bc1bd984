// The browser client of document 000, run unchanged in Node 20 (fetch, FormData, Blob
// and File are built in) against a filedock server, then a byte-exact download check.
//
// Usage: node tests/legacy/browser_flow.mjs http://127.0.0.1:8000 [size-in-bytes]
// Prints {"id", "size", "sha256"} of the uploaded file on success; exits 1 on failure.

import { createHash, randomBytes } from "node:crypto";

const base = process.argv[2];
const size = Number(process.argv[3] ?? 3.5 * 1024 * 1024);
if (!base) {
  console.error("usage: node browser_flow.mjs SERVER_URL [SIZE]");
  process.exit(2);
}

// A page resolves the client's relative URLs against its origin; here the server is the
// origin. Responses are recorded, since the client never looks at them.
const nativeFetch = globalThis.fetch;
const exchanges = [];
globalThis.fetch = async (url, init) => {
  const response = await nativeFetch(new URL(url, base), init);
  exchanges.push({ url: String(url), status: response.status, body: await response.clone().text() });
  return response;
};

// ---- document 000, verbatim ------------------------------------------------------------
async function uploadFile(file) {
  const chunkSize = 1024 * 1024; // 1MB 每个分块大小
  const totalChunks = Math.ceil(file.size / chunkSize);

  // 初始化上传会话
  const initResponse = await fetch('/api/v1/file/upload/init/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ fileName: file.name, totalChunks: totalChunks })
  });
  const { sessionId } = await initResponse.json();

  // 分块上传
  for (let i = 0; i < totalChunks; i++) {
    const start = i * chunkSize;
    const end = Math.min(start + chunkSize, file.size);
    const chunk = file.slice(start, end);

    const formData = new FormData();
    formData.append('sessionId', sessionId);
    formData.append('chunkIndex', i);
    formData.append('chunk', chunk);

    await fetch('/api/v1/file/upload/chunk/', {
      method: 'POST',
      body: formData
    });
  }

  // 完成上传
  await fetch('/api/v1/file/upload/complete/', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sessionId: sessionId })
  });

  console.log('文件上传完成');
}
// ----------------------------------------------------------------------------------------

function fail(message) {
  console.error(message);
  console.error(JSON.stringify(exchanges, null, 1).slice(0, 4000));
  process.exit(1);
}

const bytes = randomBytes(size);
const file = new File([bytes], "holiday video.mp4", { type: "video/mp4" });
const log = console.log;
console.log = () => {}; // keep stdout for the result
await uploadFile(file);
console.log = log;

const failed = exchanges.filter((e) => e.status !== 200);
if (failed.length) fail(`${failed.length} request(s) failed`);
const completed = JSON.parse(exchanges.at(-1).body).data;

const deadline = Date.now() + 30_000;
for (;;) {
  const response = await nativeFetch(`${base}/api/v1/file/status/${completed.id}`);
  const { status } = (await response.json()).data;
  if (status === "SUCCESS") break;
  if (status === "FAILURE" || Date.now() > deadline) fail(`merge ended as ${status}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const download = await nativeFetch(completed.download_url);
const downloaded = Buffer.from(await download.arrayBuffer());
if (download.status !== 200 || !downloaded.equals(bytes)) {
  fail(`download differs: status ${download.status}, ${downloaded.length} of ${size} bytes`);
}
const sha256 = createHash("sha256").update(bytes).digest("hex");
log(JSON.stringify({ id: completed.id, size, sha256 }));
