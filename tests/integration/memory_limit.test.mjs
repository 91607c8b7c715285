// The global memory limit (service.memory_limit_mib): with the backend down, a flood of large
// requests fills memory up to the limit and no further. Past it, senders are refused with a
// retryable status (HTTP 429 + Retry-After, gRPC RESOURCE_EXHAUSTED + RetryInfo) before the
// bodies are even read, /metrics shows the accounting, and the gateway's RSS stays bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import grpc from '@grpc/grpc-js';
import { start_gateway, pipeline_config, kill_all, metric_value } from './lib/gateway.mjs';
import { post_otlp, grpc_export, grpc_status_details } from './lib/clients.mjs';
import { decode_status, encode } from './lib/proto.mjs';
import { rss_bytes, is_asan, watch_rss, small_quarantine_env } from './lib/rss.mjs';

const LIMIT_MIB = 32;
const BODY_BYTES = 1 << 20;
// RSS above the idle gateway that the limit does not account for: the allocator's slack, the
// per-thread scratch, exporter connections and the HTTP parser's buffers (more under ASan:
// redzones and shadow memory).
const UNACCOUNTED_MIB = 48;
const UNACCOUNTED_MIB_ASAN = 128;

let gw;

// A logs request of about `bytes` bytes (one record with a long body), tagged it.run = run.
function large_logs_request(run, bytes) {
  return encode('logs', { resourceLogs: [{
    resource: { attributes: [{ key: 'it.run', value: { stringValue: run } }] },
    scopeLogs: [{ scope: { name: 'it' }, logRecords: [{
      timeUnixNano: 1700000000000000000, body: { stringValue: run.padEnd(bytes, '.') },
    }] }],
  }] });
}

before(async () => {
  // A port nothing listens on: the backend is down for the whole file.
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  const dead_port = probe.address().port;
  await new Promise((r) => probe.close(r));
  const exporters = `  otlphttp/down:
    endpoint: http://127.0.0.1:${dead_port}
    sending_queue:
      queue_size_mib: 256
    retry_on_failure:
      initial_interval: 1s
      max_elapsed_time: 0s
`;
  gw = await start_gateway(pipeline_config(exporters, ['otlphttp/down'],
    { health: true, extra: `  memory_limit_mib: ${LIMIT_MIB}\n` }),
  { expect: ['grpc', 'http', 'health'], env: small_quarantine_env });
});

after(() => kill_all());

test('a flood of large requests with the backend down: 429 past the limit, RSS bounded', async () => {
  const pid = gw.proc.pid;
  const baseline = rss_bytes(pid);
  const watch = watch_rss(pid);
  const statuses = [];
  let refusal;
  const body = large_logs_request('flood', BODY_BYTES);
  await Promise.all([...Array(8).keys()].map(async () => {
    for (let i = 0; i < 12; i++) {
      const r = await post_otlp(gw.url('http'), 'logs', body);
      statuses.push(r.status);
      if (r.status === 429) refusal = r;
    }
  }));
  const peak = watch.stop();

  const accepted = statuses.filter((s) => s === 200).length;
  assert.deepEqual([...new Set(statuses)].sort(), [200, 429], `statuses: ${statuses.join(' ')}`);
  assert.ok(accepted <= LIMIT_MIB, `${accepted} requests of 1 MiB accepted under a ${LIMIT_MIB} MiB limit`);
  assert.ok(accepted >= LIMIT_MIB / 2, `only ${accepted} accepted: the limit refused too early`);
  assert.equal(refusal.headers.get('retry-after'), '1');
  const st = decode_status(refusal.body);
  assert.equal(st.code, 8, 'RESOURCE_EXHAUSTED');
  assert.match(st.message, /memory limit reached/);
  assert.equal(st.retry_delay_s, 1);

  const m = await gw.metrics();
  const used = metric_value(m, 'otlpgate_memory_used_bytes');
  assert.equal(metric_value(m, 'otlpgate_memory_limit_bytes'), LIMIT_MIB << 20);
  assert.ok(used >= accepted * BODY_BYTES && used <= LIMIT_MIB << 20,
    `accounted ${used} bytes for ${accepted} queued requests of ${BODY_BYTES}`);
  assert.ok(metric_value(m, 'otlpgate_memory_refusals_total') >= statuses.length - accepted);

  const slack = (is_asan(pid) ? UNACCOUNTED_MIB_ASAN : UNACCOUNTED_MIB) << 20;
  const mib = (b) => (b / (1 << 20)).toFixed(1);
  console.log(`${statuses.length} requests of 1 MiB: ${accepted} accepted; RSS ${mib(baseline)} MiB idle, ` +
    `${mib(peak)} MiB peak; limit ${LIMIT_MIB} MiB + ${mib(slack)} MiB unaccounted allowed`);
  assert.ok(peak <= baseline + (LIMIT_MIB << 20) + slack,
    `RSS peaked at ${mib(peak)} MiB: over ${mib(baseline)} idle + ${LIMIT_MIB} limit + ${mib(slack)}`);
});

test('gRPC at the limit: RESOURCE_EXHAUSTED with RetryInfo', async () => {
  let err;
  try {
    await grpc_export(gw.address('grpc'), 'logs', large_logs_request('grpc', BODY_BYTES));
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'the memory is still full (the backend is down): the request is refused');
  assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, err.message);
  assert.match(err.details, /memory limit reached/);
  assert.equal(grpc_status_details(err)?.retry_delay_s, 1);
});
