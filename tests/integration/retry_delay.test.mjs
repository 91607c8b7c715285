// What a backend's failure tells the exporter, measured: 429 with Retry-After and gRPC
// RESOURCE_EXHAUSTED with RetryInfo delay the retry by what they say (the exporter's own backoff
// here is 100 ms), 400 / INVALID_ARGUMENT are never retried. (503 retried: retry.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import { with_gateway } from './lib/setup.mjs';
import { metric_value } from './lib/gateway.mjs';
import { post_otlp } from './lib/clients.mjs';
import { logs_request } from './lib/fixtures.mjs';

const DELAY_S = 2;  // what the backend asks for
const SLACK_MS = 1500;  // scheduling on a loaded 2-core CI (ASan) on top of the asked delay

const s = with_gateway({
  config: { health: true },
  start: { expect: ['grpc', 'http', 'health'] },
  exporter: `    retry_on_failure:
      initial_interval: 100ms
      max_interval: 200ms
`,
});

// Sends one logs request and resolves the backend's attempts at it once it is delivered.
async function delivered_attempts(backend, run) {
  const first = backend.attempts.length;
  const res = await post_otlp(s.gw.url('http'), 'logs', logs_request(run, 1));
  assert.equal(res.status, 200);
  await backend.wait_count('logs', 1, { pred: (r) => r.resource['it.run'] === run, timeout_ms: 15000 });
  return backend.attempts.slice(first);
}

test('HTTP 429 with Retry-After: the retry waits that long', async () => {
  const b = s.http_backend;
  b.fail_with = { status: 429, headers: { 'Retry-After': String(DELAY_S) } };
  b.fail_next = 1;
  const attempts = await delivered_attempts(b, 'ra-http');
  assert.equal(attempts.length, 2, 'one refused attempt, one accepted');
  const gap = attempts[1].at - attempts[0].at;
  console.log(`429 Retry-After: ${DELAY_S} -> retried after ${gap} ms`);
  assert.ok(gap >= DELAY_S * 1000 - 50, `retried after ${gap} ms, before the ${DELAY_S} s asked`);
  assert.ok(gap < DELAY_S * 1000 + SLACK_MS, `retried after ${gap} ms, far later than asked`);
});

test('gRPC RESOURCE_EXHAUSTED with RetryInfo: the retry waits that long', async () => {
  const b = s.grpc_backend;
  b.fail_with = { code: grpc.status.RESOURCE_EXHAUSTED, details: 'slow down', retry_delay_s: DELAY_S };
  b.fail_next = 1;
  const attempts = await delivered_attempts(b, 'ra-grpc');
  assert.equal(attempts.length, 2, 'one refused attempt, one accepted');
  const gap = attempts[1].at - attempts[0].at;
  console.log(`RESOURCE_EXHAUSTED RetryInfo ${DELAY_S}s -> retried after ${gap} ms`);
  assert.ok(gap >= DELAY_S * 1000 - 50, `retried after ${gap} ms, before the ${DELAY_S} s asked`);
  assert.ok(gap < DELAY_S * 1000 + SLACK_MS, `retried after ${gap} ms, far later than asked`);
});

test('HTTP 400 and gRPC INVALID_ARGUMENT are not retried, and counted as permanent', async () => {
  s.http_backend.fail_with = { status: 400 };
  s.grpc_backend.fail_with = { code: grpc.status.INVALID_ARGUMENT, details: 'bad data' };
  const before = s.backends.map((b) => b.attempts.length);
  for (const b of s.backends) b.fail_next = 1;
  const res = await post_otlp(s.gw.url('http'), 'logs', logs_request('permanent', 3));
  assert.equal(res.status, 200, 'the gateway took it; the backends refuse it later');
  const permanent = (id) => `otlpgate_exporter_dropped_items_total{exporter="${id}",reason="permanent"}`;
  let m = '';
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    m = await s.gw.metrics();
    if (metric_value(m, permanent('otlp/grpcbackend')) >= 3 && metric_value(m, permanent('otlphttp/httpbackend')) >= 3) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(metric_value(m, permanent('otlp/grpcbackend')), 3, m);
  assert.equal(metric_value(m, permanent('otlphttp/httpbackend')), 3, m);
  // With a 100 ms backoff a retry would have come many times over by now.
  await new Promise((r) => setTimeout(r, 1000));
  s.backends.forEach((b, i) => {
    assert.equal(b.attempts.length - before[i], 1, `${b.kind} backend: exactly one attempt`);
    assert.equal(b.count('logs', (r) => r.resource['it.run'] === 'permanent'), 0);
  });
});
