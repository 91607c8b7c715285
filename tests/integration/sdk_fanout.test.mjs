// The official JS SDK sends metrics, traces and logs over gRPC and HTTP/protobuf through otlpgate;
// every item must reach both backends (one OTLP/gRPC, one OTLP/HTTP), no more and no fewer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { with_gateway } from './lib/setup.mjs';
import { send_spans, send_logs, send_metrics, METRIC_POINTS, METRIC_POINTS_TOTAL } from './lib/sdk.mjs';

const SPANS = 25;
const LOGS = 40;
const POINTS = METRIC_POINTS_TOTAL;

const fx = with_gateway({ exporter: '    retry_on_failure:\n      initial_interval: 100ms\n' });

const backends = () => fx.backends;
const of_run = (run) => (item) => item.resource['it.run'] === run;

for (const transport of ['grpc', 'http']) {
  test(`SDK over ${transport}: ${SPANS} spans reach both backends`, async () => {
    const run = `spans-${transport}`;
    await send_spans(transport, fx.gw.url(transport), run, SPANS);
    for (const b of backends()) {
      await b.wait_count('traces', SPANS, { pred: of_run(run) });
      const got = b.items('traces').filter(of_run(run));
      assert.equal(got.length, SPANS, `${b.kind} backend span count`);
      const names = new Set(got.map((s) => s.name));
      for (let i = 0; i < SPANS; i++) assert.ok(names.has(`span-${i}`), `${b.kind} backend lacks span-${i}`);
      assert.deepEqual(got.map((s) => s.attributes['it.index']).sort((x, y) => x - y), [...Array(SPANS).keys()]);
      assert.ok(got.every((s) => s.resource['service.name'] === 'otlpgate-it'));
    }
  });

  test(`SDK over ${transport}: ${LOGS} log records reach both backends`, async () => {
    const run = `logs-${transport}`;
    await send_logs(transport, fx.gw.url(transport), run, LOGS);
    for (const b of backends()) {
      await b.wait_count('logs', LOGS, { pred: of_run(run) });
      const got = b.items('logs').filter(of_run(run));
      assert.equal(got.length, LOGS, `${b.kind} backend log count`);
      assert.deepEqual(new Set(got.map((l) => l.name)), new Set([...Array(LOGS).keys()].map((i) => `log-${i}`)));
    }
  });

  test(`SDK over ${transport}: ${POINTS} metric points reach both backends`, async () => {
    const run = `metrics-${transport}`;
    await send_metrics(transport, fx.gw.url(transport), run);
    for (const b of backends()) {
      await b.wait_count('metrics', POINTS, { pred: of_run(run) });
      const got = b.items('metrics').filter(of_run(run));
      assert.equal(got.length, POINTS, `${b.kind} backend point count`);
      for (const [name, n] of Object.entries(METRIC_POINTS)) {
        assert.equal(got.filter((p) => p.name === name).length, n, `${b.kind} backend points of ${name}`);
      }
      const routes = got.filter((p) => p.name === 'it.requests').map((p) => p.attributes.route).sort();
      assert.deepEqual(routes, ['/r0', '/r1', '/r2', '/r3', '/r4']);
    }
  });
}

test('after a draining stop, each backend holds exactly what was sent (no duplicates)', async () => {
  const exit = await fx.gw.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, `exit status; stderr:\n${fx.gw.err}`);
  for (const b of backends()) {
    for (const transport of ['grpc', 'http']) {
      assert.equal(b.count('traces', of_run(`spans-${transport}`)), SPANS, `${b.kind} spans via ${transport}`);
      assert.equal(b.count('logs', of_run(`logs-${transport}`)), LOGS, `${b.kind} logs via ${transport}`);
      assert.equal(b.count('metrics', of_run(`metrics-${transport}`)), POINTS, `${b.kind} points via ${transport}`);
    }
  }
});
