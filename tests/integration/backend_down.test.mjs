// Both backends down under steady load from several concurrent senders (HTTP and gRPC), then
// back: every item reaches both, and the senders only ever saw success or a retryable refusal
// (which they retried, as SDKs do).
//
// The outage lasts 60 s, as the issue asks (the queues fill within a few seconds at this rate and
// the senders are pushed back for the rest of it). OTLPGATE_OUTAGE_MS shortens it when iterating.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import { with_gateway } from './lib/setup.mjs';
import { post_otlp, grpc_export } from './lib/clients.mjs';
import { logs_request } from './lib/fixtures.mjs';

const OUTAGE_MS = Number(process.env.OTLPGATE_OUTAGE_MS ?? 60000);
const SENDERS = 4;  // two over HTTP, two over gRPC
const ITEMS = 5;    // log records per request

const s = with_gateway({
  exporter: `    sending_queue:
      queue_size: 40
      on_full: backpressure
    retry_on_failure:
      initial_interval: 500ms
      max_interval: 1s
      max_elapsed_time: 0s
`,
});

const RETRYABLE_HTTP = new Set([429, 503]);
const RETRYABLE_GRPC = new Set([grpc.status.UNAVAILABLE, grpc.status.RESOURCE_EXHAUSTED]);

// Sends one request until it is taken; returns the refusals it met. Anything not retryable fails
// the test.
async function send_until_taken(k, run, seen) {
  const body = logs_request(run, ITEMS);
  for (;;) {
    let wait_s = 1;
    if (k % 2 === 0) {
      const r = await post_otlp(s.gw.url('http'), 'logs', body);
      seen.push(`http ${r.status}`);
      if (r.status === 200) return;
      assert.ok(RETRYABLE_HTTP.has(r.status), `HTTP sender got ${r.status}`);
      wait_s = Number(r.headers.get('retry-after') || 1);
    } else {
      try {
        await grpc_export(s.gw.address('grpc'), 'logs', body);
        seen.push('grpc OK');
        return;
      } catch (e) {
        seen.push(`grpc ${grpc.status[e.code]}`);
        assert.ok(RETRYABLE_GRPC.has(e.code), `gRPC sender got ${grpc.status[e.code]}: ${e.details}`);
      }
    }
    await new Promise((r) => setTimeout(r, wait_s * 1000));
  }
}

test(`both backends down ${OUTAGE_MS / 1000} s under load, then back: everything arrives`, async () => {
  const { grpc_backend, http_backend } = s;
  let phase = 'up';
  const runs = [];
  const seen = [];
  const senders = [...Array(SENDERS).keys()].map(async (k) => {
    for (let i = 0; phase !== 'done'; i++) {
      const run = `down-${k}-${i}`;
      runs.push(run);
      await send_until_taken(k, run, seen);
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  await new Promise((r) => setTimeout(r, 1000));
  phase = 'down';
  await http_backend.go_down();  // connections refused
  grpc_backend.fail_next = Infinity;  // every export answered UNAVAILABLE
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  phase = 'back';
  await http_backend.come_back();
  grpc_backend.fail_next = 0;
  await new Promise((r) => setTimeout(r, 2000));
  phase = 'done';
  await Promise.all(senders);

  const tally = {};
  for (const x of seen) tally[x] = (tally[x] ?? 0) + 1;
  console.log(`${runs.length} requests from ${SENDERS} senders; answers: ${JSON.stringify(tally)}`);
  assert.ok(seen.some((x) => x !== 'http 200' && x !== 'grpc OK'), 'the senders were pushed back during the outage');

  for (const b of [grpc_backend, http_backend]) {
    await b.wait_count('logs', runs.length * ITEMS, { timeout_ms: 30000 });
    const got = new Set(b.items('logs').map((it) => it.resource['it.run']));
    const missing = runs.filter((r) => !got.has(r));
    assert.deepEqual(missing, [], `${b.kind} backend is missing requests`);
  }
});
