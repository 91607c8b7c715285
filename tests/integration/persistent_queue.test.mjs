// Persistent exporter queue (sending_queue.storage): kill -9 of the gateway under load from
// several senders, restart on the same directory, and every request the gateway acknowledged
// reaches the backend (duplicates allowed and counted, none missing).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpBackend, sha256 } from './lib/backends.mjs';
import { start_gateway, pipeline_config, kill_all, temp_dir } from './lib/gateway.mjs';
import { post_otlp } from './lib/clients.mjs';
import { logs_request } from './lib/fixtures.mjs';
import { wait_until } from './lib/wait.mjs';

let backend;

after(async () => {
  kill_all();
  await backend?.stop();
});

function config(storage, fsync) {
  return pipeline_config(`  otlphttp/slow:
    endpoint: ${backend.endpoint}
    sending_queue:
      num_consumers: 2
      queue_size: 100000
      storage: ${storage}
      fsync: ${fsync}
    retry_on_failure:
      initial_interval: 100ms
      max_interval: 200ms
      max_elapsed_time: 0s
`, ['otlphttp/slow']);
}

for (const fsync of ['always', 'interval']) {
  test(`kill -9 under load (fsync ${fsync}): every acknowledged request is delivered after restart`, async () => {
    backend = new HttpBackend();
    await backend.start();
    backend.delay_ms = 20;  // slower than the senders: a backlog builds up on disk
    const storage = temp_dir();
    let gw = await start_gateway(config(storage, fsync));
    const url = gw.url('http');

    const acked = new Set();
    let refused = 0;
    let stop = false;
    const sender = async (k) => {
      for (let i = 0; !stop; i++) {
        const body = logs_request(`${fsync}-${k}-${i}`, 3);
        try {
          const r = await post_otlp(url, 'logs', body);
          if (r.status === 200) acked.add(sha256(body));
          else refused++;
        } catch {
          // The gateway died with this request in flight: never acknowledged, so not owed.
        }
      }
    };
    const senders = [0, 1, 2, 3].map(sender);
    await wait_until(() => acked.size >= 150, 20000, () => `acked ${acked.size} of 150`);
    gw.proc.kill('SIGKILL');
    await gw.exited;
    stop = true;
    await Promise.all(senders);
    const delivered_before = backend.requests.length;
    assert.ok(delivered_before < acked.size, `a backlog was on disk at the kill (${delivered_before} of ${acked.size} delivered)`);

    backend.delay_ms = 0;
    gw = await start_gateway(config(storage, fsync));
    const received = () => new Set(backend.requests.map((r) => sha256(r.body)));
    await wait_until(() => [...acked].every((h) => received().has(h)), 30000,
      () => `delivered ${[...acked].filter((h) => received().has(h)).length} of ${acked.size} acknowledged`);
    const duplicates = backend.requests.length - received().size;
    console.log(`fsync ${fsync}: acked ${acked.size}, refused ${refused}, delivered before kill ` +
      `${delivered_before}, duplicates ${duplicates}`);
    assert.match(gw.err, /persistent queue replays \d+ requests/);
    await gw.stop('SIGTERM');
    await backend.stop();
    backend = undefined;
  });
}
