// Raw OTLP clients for the tests: POST serialized bytes over HTTP, or send them as one gRPC message.
import grpc from '@grpc/grpc-js';
import { grpc_paths } from './proto.mjs';

const identity = (b) => b;

// POST /v1/<signal> with a protobuf body; resolves {status, headers, body}.
export async function post_otlp(base_url, signal, body, headers = {}) {
  const res = await fetch(`${base_url}/v1/${signal}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf', ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

// One unary Export call carrying `body` as the message bytes; resolves the response bytes.
export function grpc_export(address, signal, body, { metadata = {}, compression, deadline_ms = 10000 } = {}) {
  const options = {};
  if (compression === 'gzip') options['grpc.default_compression_algorithm'] = 2;
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), options);
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
