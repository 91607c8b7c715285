// Raw OTLP clients for the tests: POST serialized bytes over HTTP, or send them as one gRPC message;
// body compression; a raw TCP connection for what HTTP clients will not do (slow or idle senders).
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import net from 'node:net';
import zlib from 'node:zlib';
import grpc from '@grpc/grpc-js';
import { decode_status, grpc_paths } from './proto.mjs';

const identity = (b) => b;

// Any request to the gateway; resolves {status, headers, body}. An https:// URL goes through
// node's https with `tls` (lib/tls.mjs client_tls(): the test CA, a client certificate).
export async function http_request(url, { method = 'POST', headers = {}, body, tls } = {}) {
  if (url.startsWith('https:')) return https_request(url, { method, headers, body, tls });
  const res = await fetch(url, { method, headers, body });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function https_request(url, { method, headers, body, tls = {} }) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, agent: false, ...tls }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve({ status: res.statusCode, headers: h, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    // A refusal before the body is read may cut the upload short; the response still counts.
    req.on('socket', (s) => s.on('error', () => {}));
    req.end(body === undefined ? undefined : typeof body === 'string' ? body : Buffer.from(body));
  });
}

// POST /v1/<signal> with a protobuf body; resolves {status, headers, body}.
export function post_otlp(base_url, signal, body, headers = {}, tls = undefined) {
  return http_request(`${base_url}/v1/${signal}`, {
    headers: { 'Content-Type': 'application/x-protobuf', ...headers }, body, tls,
  });
}

// `buf` compressed as the Content-Encoding `encoding` says: gzip, deflate (zlib) or zstd.
export function compress(encoding, buf) {
  if (encoding === 'gzip') return zlib.gzipSync(buf);
  if (encoding === 'deflate') return zlib.deflateSync(buf);
  if (encoding === 'zstd') {
    if (typeof zlib.zstdCompressSync === 'function') return zlib.zstdCompressSync(buf);
    return execFileSync('zstd', ['-c', '-q'], { input: buf, maxBuffer: 256 << 20 });
  }
  throw new Error(`no compressor for ${encoding}`);
}

// The google.rpc.Status a failed gRPC call carried in grpc-status-details-bin (see decode_status),
// or undefined when it carried none.
export function grpc_status_details(err) {
  const bin = err.metadata?.get('grpc-status-details-bin')?.[0];
  return bin ? decode_status(bin) : undefined;
}

// A plain TCP connection to host:port: `data` collects what the server sends; `closed` resolves
// (with the time, Date.now()) when the server ends or resets it.
export async function raw_connection(address) {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = net.connect(port, host);
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const conn = { socket, data: '' };
  socket.setEncoding('latin1');
  socket.on('data', (d) => { conn.data += d; });
  socket.on('error', () => {});  // a reset is one way of being cut off
  conn.closed = new Promise((resolve) => socket.once('close', () => resolve(Date.now())));
  return conn;
}

// One unary Export call carrying `body` as the message bytes; resolves the response bytes.
// `tls`: {ca, cert?, key?} (PEM buffers) for a TLS listener.
export function grpc_export(address, signal, body, { metadata = {}, compression, deadline_ms = 10000, tls } = {}) {
  const options = {};
  if (compression === 'gzip') options['grpc.default_compression_algorithm'] = 2;
  const creds = tls ? grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null)
    : grpc.credentials.createInsecure();
  const client = new grpc.Client(address, creds, options);
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(grpc_paths[signal], identity, identity, body, md,
      { deadline: Date.now() + deadline_ms }, (err, response) => {
        client.close();
        if (err) reject(err);
        else resolve(response);
      });
  });
}
