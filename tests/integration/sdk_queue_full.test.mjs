// Queue full, with the official JS SDK as the sender: the backend is down and the exporter queue
// holds only a few requests, so the gateway refuses the rest with 429 + Retry-After. The SDK's
// OTLP exporter retries them on its own, and once the backend is back every batch is delivered;
// meanwhile the gateway's RSS stays under its memory limit plus its idle size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { with_gateway } from './lib/setup.mjs';
import { metric_value } from './lib/gateway.mjs';
import { send_metric_batch, METRIC_POINTS } from './lib/sdk.mjs';
import { rss_bytes, watch_rss, small_quarantine_env } from './lib/rss.mjs';

const LIMIT_MIB = 64;
const BATCHES = 6;  // exported at once: one in delivery, two waiting, the rest refused

const s = with_gateway({
  backends: ['http'],
  exporter: `    sending_queue:
      num_consumers: 1
      queue_size: 2
    retry_on_failure:
      initial_interval: 1s
      max_interval: 1s
      max_elapsed_time: 0s
`,
  config: { health: true, extra: `  memory_limit_mib: ${LIMIT_MIB}\n` },
  start: { expect: ['grpc', 'http', 'health'], env: small_quarantine_env },
});

test('the JS SDK is pushed back by a full queue, retries, and delivers everything', async () => {
  const b = s.http_backend;
  const pid = s.gw.proc.pid;
  const baseline = rss_bytes(pid);
  const watch = watch_rss(pid);
  await b.go_down();
  const record = (i) => (meter) => {
    const counter = meter.createCounter('it.requests');
    for (let p = 0; p < METRIC_POINTS['it.requests']; p++) counter.add(i + 1, { route: `/r${p}` });
  };
  // The SDK exporter retries a 429 up to 4 times, Retry-After (1 s) apart, within its 10 s timeout.
  const exports = [...Array(BATCHES).keys()].map((i) =>
    send_metric_batch('http', s.gw.url('http'), `sdk-full-${i}`, record(i)));
  setTimeout(() => b.come_back(), 1500);
  await Promise.all(exports);  // throws unless every export finally succeeded
  const peak = watch.stop();

  const m = await s.gw.metrics();
  const refused = metric_value(m, 'otlpgate_receiver_refused_items_total{receiver="otlp",signal="metrics"}');
  assert.ok(refused > 0, `the SDK was refused with 429 at least once (refused items: ${refused})`);
  for (let i = 0; i < BATCHES; i++) {
    await b.wait_count('metrics', METRIC_POINTS['it.requests'],
      { pred: (p) => p.resource['it.run'] === `sdk-full-${i}`, timeout_ms: 15000 });
  }
  const mib = (x) => (x / (1 << 20)).toFixed(1);
  console.log(`${BATCHES} SDK exports, ${refused} items refused and retried; RSS ${mib(baseline)} MiB idle, ${mib(peak)} MiB peak`);
  assert.ok(peak <= baseline + (LIMIT_MIB << 20), `RSS peaked at ${mib(peak)} MiB`);
});
