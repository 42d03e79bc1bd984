// Uploads one file with tus-js-client, as a browser or Node app would.
// Usage: node upload.mjs '{"endpoint": "...", "file": "...", ...options}'
// Options: chunkSize, parallelUploads, deferred (stream of unknown length), uploadUrl
// (resume), metadata, overridePatchMethod, dieAfter (SIGKILL itself once that many body
// bytes went out: a client killed mid-request). Prints one JSON line per event (url,
// progress, success, error) so the caller can follow, interrupt and check it.
import fs from 'node:fs'
import { PassThrough, Readable, Transform } from 'node:stream'
import * as tus from 'tus-js-client'

const spec = JSON.parse(process.argv[2])
const say = (event) => process.stdout.write(JSON.stringify(event) + '\n')

let sentBytes = 0
const dying = () =>
  new Transform({
    transform(chunk, _encoding, callback) {
      if (sentBytes + chunk.length > spec.dieAfter) process.kill(process.pid, 'SIGKILL')
      sentBytes += chunk.length
      callback(null, chunk)
    },
  })

class DyingHttpStack extends tus.DefaultHttpStack {
  createRequest(method, url) {
    const request = super.createRequest(method, url)
    const send = request.send.bind(request)
    request.send = (body) => send(body instanceof Readable ? body.pipe(dying()) : body)
    return request
  }
}

let input = fs.createReadStream(spec.file) // read in slices: no copy of the file in memory
if (spec.deferred) input = input.pipe(new PassThrough()) // a stream whose length is unknown

let lastReport = 0
const upload = new tus.Upload(input, {
  endpoint: spec.endpoint,
  uploadUrl: spec.uploadUrl ?? null,
  chunkSize: spec.chunkSize ?? Infinity,
  parallelUploads: spec.parallelUploads ?? 1,
  uploadLengthDeferred: Boolean(spec.deferred),
  overridePatchMethod: Boolean(spec.overridePatchMethod),
  metadata: spec.metadata ?? {},
  retryDelays: spec.retryDelays ?? [0, 200, 1000],
  removeFingerprintOnSuccess: true,
  ...(spec.dieAfter ? { httpStack: new DyingHttpStack() } : {}),
  onUploadUrlAvailable: () => say({ event: 'url', url: upload.url }),
  onProgress: (sent, total) => {
    if (sent - lastReport >= (spec.reportEvery ?? 1 << 20) || sent === total) {
      lastReport = sent
      say({ event: 'progress', sent, total })
    }
  },
  onSuccess: () => say({ event: 'success', url: upload.url, seconds: (performance.now() - started) / 1000 }),
  onError: (error) => {
    say({ event: 'error', message: String(error) })
    process.exitCode = 1
  },
})
const started = performance.now()
upload.start()
