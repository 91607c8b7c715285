// One backend black-holed (accepts TCP, never answers) next to a healthy one: with the default
// full-queue policy the senders only ever see success, the healthy backend receives every request
// as fast as without the dead one, and the dead backend's queue sheds its oldest, counted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { HttpBackend } from './lib/backends.mjs';
import { start_gateway, pipeline_config, kill_all, metric_value } from './lib/gateway.mjs';
import { post_otlp } from './lib/clients.mjs';
import { logs_request } from './lib/fixtures.mjs';

let healthy;
let hole;
const held = [];

after(async () => {
  kill_all();
  for (const s of held) s.destroy();
  await healthy?.stop();
  await new Promise((r) => (hole ? hole.close(r) : r()));
});

async function send_all(url, senders, per_sender) {
  const started = Date.now();
  const statuses = [];
  await Promise.all([...Array(senders).keys()].map(async (k) => {
    for (let i = 0; i < per_sender; i++) {
      statuses.push((await post_otlp(url, 'logs', logs_request(`iso-${k}-${i}`, 2))).status);
    }
  }));
  return { statuses, ms: Date.now() - started };
}

test('a black-holed backend does not slow or stop the healthy one', async () => {
  healthy = await new HttpBackend().start();
  hole = net.createServer((s) => held.push(s));
  await new Promise((r) => hole.listen(0, '127.0.0.1', r));
  const exporters = `  otlphttp/healthy:
    endpoint: ${healthy.endpoint}
  otlphttp/dead:
    endpoint: http://127.0.0.1:${hole.address().port}
    timeout: 500ms
    sending_queue:
      num_consumers: 2
      queue_size: 20
    retry_on_failure:
      initial_interval: 100ms
      max_elapsed_time: 0s
`;
  const gw = await start_gateway(pipeline_config(exporters, ['otlphttp/healthy', 'otlphttp/dead'],
    { health: true }), { expect: ['grpc', 'http', 'health'] });
  const { statuses, ms } = await send_all(gw.url('http'), 4, 100);
  assert.deepEqual([...new Set(statuses)], [200], 'the senders only ever saw success');
  await healthy.wait_count('logs', 800, { timeout_ms: 10000 });
  const m = await gw.metrics();
  const shed = metric_value(m, 'otlpgate_exporter_dropped_items_total{exporter="otlphttp/dead",reason="queue_full"}');
  assert.ok(shed > 0, `the dead backend's queue shed its oldest (counted ${shed})`);
  console.log(`400 requests through 4 senders in ${ms} ms with one backend black-holed; dead queue shed ${shed} items`);
  assert.ok(ms < 10000, `took ${ms} ms`);
});
