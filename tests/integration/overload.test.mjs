// Backpressure: when an exporter queue is full the sender is told to come back later — HTTP 429
// with Retry-After and a google.rpc.Status carrying RetryInfo; gRPC RESOURCE_EXHAUSTED with
// RetryInfo in its status details (which makes it retryable for OTLP clients).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import { with_gateway } from './lib/setup.mjs';
import { post_otlp, grpc_export, grpc_status_details } from './lib/clients.mjs';
import { decode_status } from './lib/proto.mjs';
import { logs_request } from './lib/fixtures.mjs';

const RETRY_AFTER_S = 2;  // the exporter's initial_interval, which the refusal suggests

const s = with_gateway({ backends: ['http'], exporter: `    timeout: 60s
    sending_queue:
      num_consumers: 1
      queue_size: 1
    retry_on_failure:
      initial_interval: ${RETRY_AFTER_S}s
` });

// Sends requests until one is refused (one goes to the consumer, one waits in the queue).
async function first_refusal(send) {
  s.http_backend.delay_ms = 60000;  // holds every export: the one consumer stays busy, the queue fills
  for (let i = 0; i < 5; i++) {
    const r = await send(i);
    if (r) return r;
  }
  assert.fail('no request was refused with the queue full');
}

test('HTTP: a full exporter queue answers 429 with Retry-After and RetryInfo', async () => {
  const res = await first_refusal(async (i) => {
    const r = await post_otlp(s.gw.url('http'), 'logs', logs_request(`http-${i}`, 1));
    if (r.status === 200) return undefined;
    return r;
  });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), String(RETRY_AFTER_S));
  const st = decode_status(res.body);
  assert.equal(st.code, 8, 'RESOURCE_EXHAUSTED');
  assert.match(st.message, /exporter otlphttp\/httpbackend: queue full/);
  assert.equal(st.retry_delay_s, RETRY_AFTER_S);
});

test('gRPC: a full exporter queue answers RESOURCE_EXHAUSTED with RetryInfo', async () => {
  const err = await first_refusal(async (i) => {
    try {
      await grpc_export(s.gw.address('grpc'), 'logs', logs_request(`grpc-${i}`, 1));
      return undefined;
    } catch (e) {
      return e;
    }
  });
  assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.message);
  assert.match(err.details, /queue full/);
  const st = grpc_status_details(err);
  assert.ok(st, 'grpc-status-details-bin is set');
  assert.equal(st.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.equal(st.retry_delay_s, RETRY_AFTER_S);
});
