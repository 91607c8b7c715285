// Test OTLP backends (one gRPC, one HTTP) that record the raw bytes they receive, with fault injection.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import zlib from 'node:zlib';
import grpc from '@grpc/grpc-js';
import { decode, encode_status, grpc_paths, items } from './proto.mjs';
import { wait_until } from './wait.mjs';

const identity = (b) => b;

export function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

function zstd_decompress(buf) {
  if (typeof zlib.zstdDecompressSync === 'function') return zlib.zstdDecompressSync(buf);
  return execFileSync('zstd', ['-d', '-c', '-q'], { input: buf, maxBuffer: 256 << 20 });
}

// What both backends share: the record of accepted requests, the fault plan and the waits.
class Recorder {
  constructor(kind) {
    this.kind = kind;
    this.requests = [];   // accepted: {signal, body, headers, path, encoding}
    this.attempts = [];   // every request seen, including the ones answered with a failure
    this.fail_next = 0;   // answer this many requests with a retryable failure first
    // What that failure is: HTTP {status, headers}, gRPC {code, details, retry_delay_s} (RetryInfo
    // in grpc-status-details-bin); unset: 503 / UNAVAILABLE.
    this.fail_with = undefined;
    this.delay_ms = 0;    // hold every answer this long (a slow backend)
  }

  // Count of items of `signal` in the accepted requests, optionally filtered by a predicate.
  count(signal, pred = () => true) {
    return this.items(signal).filter(pred).length;
  }

  items(signal) {
    const out = [];
    for (const r of this.requests) if (r.signal === signal) out.push(...items(signal, decode(signal, r.body)));
    return out;
  }

  async wait_count(signal, n, { pred, timeout_ms = 10000 } = {}) {
    await wait_until(() => this.count(signal, pred) >= n, timeout_ms,
      () => `${this.kind} backend: ${signal} items ${this.count(signal, pred)} of ${n}`);
  }

  // Returns true when this request should be failed (and consumes one planned failure).
  take_failure() {
    if (this.fail_next > 0) {
      this.fail_next--;
      return true;
    }
    return false;
  }

  async hold() {
    if (this.delay_ms > 0) await new Promise((r) => setTimeout(r, this.delay_ms));
  }
}

// OTLP/gRPC backend: the three Export methods with identity (de)serializers, so the recorded
// body is exactly the message bytes the gateway sent (after gRPC message decompression).
export class GrpcBackend extends Recorder {
  constructor() {
    super('grpc');
    this.server = new grpc.Server();
    const service = {};
    for (const [signal, path] of Object.entries(grpc_paths)) {
      service[signal] = {
        path, requestStream: false, responseStream: false,
        requestSerialize: identity, requestDeserialize: identity,
        responseSerialize: identity, responseDeserialize: identity,
      };
    }
    const handlers = {};
    for (const signal of Object.keys(grpc_paths)) {
      handlers[signal] = (call, callback) => this.#on_export(signal, call, callback);
    }
    this.server.addService(service, handlers);
  }

  async #on_export(signal, call, callback) {
    const headers = call.metadata.getMap();
    const body = Buffer.from(call.request);
    this.attempts.push({ signal, headers, body, at: Date.now() });
    await this.hold();
    if (this.take_failure()) {
      const f = this.fail_with ?? { code: grpc.status.UNAVAILABLE };
      const details = f.details ?? 'injected failure';
      const metadata = new grpc.Metadata();
      if (f.retry_delay_s !== undefined) {
        metadata.set('grpc-status-details-bin', encode_status(f.code, details, f.retry_delay_s));
      }
      callback({ code: f.code, details, metadata });
      return;
    }
    this.requests.push({ signal, body, headers, path: grpc_paths[signal] });
    callback(null, Buffer.alloc(0));  // an empty Export*ServiceResponse
  }

  async start() {
    this.port = await new Promise((resolve, reject) => {
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port));
    });
    return this;
  }

  get endpoint() {
    return `127.0.0.1:${this.port}`;
  }

  async stop() {
    // Graceful first; a gateway that keeps a call open must not hang the test's after() hook.
    let timer;
    await Promise.race([
      new Promise((resolve) => this.server.tryShutdown(() => resolve())),
      new Promise((resolve) => { timer = setTimeout(resolve, 2000); }),
    ]);
    clearTimeout(timer);
    this.server.forceShutdown();
  }
}

const SIGNAL_BY_PATH = { '/v1/traces': 'traces', '/v1/metrics': 'metrics', '/v1/logs': 'logs' };

// OTLP/HTTP backend: records path, headers and the body after undoing Content-Encoding.
export class HttpBackend extends Recorder {
  constructor() {
    super('http');
    this.server = http.createServer((req, res) => this.#on_request(req, res));
  }

  #on_request(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const encoding = (req.headers['content-encoding'] || '').toLowerCase();
      let body;
      try {
        body = encoding === 'gzip' ? zlib.gunzipSync(raw)
          : encoding === 'zstd' ? zstd_decompress(raw)
          : encoding === 'deflate' ? zlib.inflateSync(raw)
          : raw;
      } catch (e) {
        this.attempts.push({ path: req.url, headers: req.headers, body: raw, error: String(e) });
        res.writeHead(400).end();
        return;
      }
      const signal = SIGNAL_BY_PATH[req.url];
      this.attempts.push({ signal, path: req.url, headers: req.headers, body, encoding, method: req.method, at: Date.now() });
      await this.hold();
      if (!signal || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      if (this.take_failure()) {
        const f = this.fail_with ?? { status: 503 };
        res.writeHead(f.status, { 'Content-Type': 'application/x-protobuf', ...f.headers }).end();
        return;
      }
      this.requests.push({ signal, body, headers: req.headers, path: req.url, encoding, raw });
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 }).end();
    });
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }

  // An outage: connections are cut and refused until come_back() listens on the same port again
  // (what it recorded so far is kept).
  async go_down() {
    await this.stop();
  }

  async come_back() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }
}

// Both test backends, started: {grpc, http, list: [grpc, http], stop()}.
export async function start_backends() {
  const grpc = await new GrpcBackend().start();
  const http = await new HttpBackend().start();
  return {
    grpc, http, list: [grpc, http],
    async stop() {
      await grpc.stop();
      await http.stop();
    },
  };
}
