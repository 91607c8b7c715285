// OTLP/gRPC status codes: a message over max_recv_msg_size_mib gets RESOURCE_EXHAUSTED (without
// RetryInfo: not to be retried), undecodable bytes INVALID_ARGUMENT with the reason, an unknown
// method UNIMPLEMENTED; an empty request succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import { with_gateway } from './lib/setup.mjs';
import { grpc_export, grpc_status_details } from './lib/clients.mjs';
import { decode_response } from './lib/proto.mjs';
import { logs_request } from './lib/fixtures.mjs';

const s = with_gateway({ backends: ['http'], config: { grpc: '        max_recv_msg_size_mib: 1\n' } });

// The error a call fails with (the test fails when it succeeds).
async function export_error(signal, body, options = {}) {
  try {
    await grpc_export(s.gw.address('grpc'), signal, body, options);
  } catch (err) {
    return err;
  }
  assert.fail('the call succeeded');
}

test('a message over max_recv_msg_size_mib: RESOURCE_EXHAUSTED, not retryable', async () => {
  const big = logs_request('big', 40000);
  assert.ok(big.length > (1 << 20), `${big.length} bytes`);
  const err = await export_error('logs', big);
  assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.message);
  assert.equal(grpc_status_details(err)?.retry_delay_s, undefined, 'no RetryInfo');
  // Just under the limit passes.
  await grpc_export(s.gw.address('grpc'), 'logs', logs_request('under', 1000));
  await s.http_backend.wait_count('logs', 1000);
});

test('a gzip message that decompresses past the limit: RESOURCE_EXHAUSTED (no bomb)', async () => {
  // 64 MiB of zeros, a few KiB on the wire: the limit applies after decompression.
  const err = await export_error('logs', Buffer.alloc(64 << 20), { compression: 'gzip' });
  assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.message);
  assert.match(err.details, /larger than max/);
});

test('undecodable bytes: INVALID_ARGUMENT saying what is wrong', async () => {
  const err = await export_error('traces', Buffer.from([0x0a, 0x7f, 0x01]));
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /not a valid ExportTraceServiceRequest: .* at byte \d+/);
});

test('an empty request succeeds with an empty response', async () => {
  const res = await grpc_export(s.gw.address('grpc'), 'metrics', Buffer.alloc(0));
  assert.deepEqual(decode_response('metrics', res), {});
});

test('an unknown method: UNIMPLEMENTED', async () => {
  const client = new grpc.Client(s.gw.address('grpc'), grpc.credentials.createInsecure());
  const err = await new Promise((resolve) => {
    client.makeUnaryRequest('/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export',
      (b) => b, (b) => b, Buffer.alloc(0), (e) => resolve(e));
  });
  client.close();
  assert.equal(err?.code, grpc.status.UNIMPLEMENTED);
});
