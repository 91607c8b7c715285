// The processing chain through the real binary, with the official JS SDK as sender: redact,
// filter, dedup and seed 004's relabel rule reach both backends as configured, and every stage's
// counters are on /metrics, labelled with processor and pipeline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start_backends } from './lib/backends.mjs';
import { start_gateway, pipeline_config, backend_exporters, metric_value, kill_all } from './lib/gateway.mjs';
import { send_spans, send_logs, send_metric_batch } from './lib/sdk.mjs';

const EMAIL = 'jane.doe@example.com';
const PII = { 'user.email': EMAIL, 'user.id': 'u-42' };

// The metric_relabel_configs rule of ../shared/seeds/004, as written there.
const PROCESSORS = `  redact/pii:
    delete_keys: [user.email]
  filter/debug:
    metrics:
      exclude:
        match_type: strict
        metric_names: [it.debug]
  dedup:
    window: 10m
  relabel/elb:
    metric_relabel_configs:
      - source_labels: [__name__]
        regex: aws_applicationelb_.*
        target_label: service
        replacement: elb
`;

let backends;
let gw;

before(async () => {
  backends = await start_backends();
  const exporters = backend_exporters(backends.grpc, backends.http, '    retry_on_failure:\n      initial_interval: 100ms\n');
  gw = await start_gateway(pipeline_config(exporters, ['otlp/grpcbackend', 'otlphttp/httpbackend'], {
    health: true,
    processors: PROCESSORS,
    pipeline_processors: {
      metrics: ['filter/debug', 'redact/pii', 'dedup', 'relabel/elb'],
      traces: ['redact/pii'],
      logs: ['redact/pii'],
    },
  }), { expect: ['grpc', 'http', 'health'] });
});

after(async () => {
  kill_all();
  await backends?.stop();
});
const of_run = (run) => (item) => item.resource['it.run'] === run;

// Waits until every backend holds `n` items of `run`, and returns each backend's items.
async function arrived(signal, run, n) {
  const out = [];
  for (const b of backends.list) {
    await b.wait_count(signal, n, { pred: of_run(run) });
    out.push([b, b.items(signal).filter(of_run(run))]);
  }
  return out;
}

for (const transport of ['grpc', 'http']) {
  test(`redact over ${transport}: a user.email attribute never reaches a backend`, async () => {
    const run = `redact-${transport}`;
    await send_spans(transport, gw.url(transport), run, 5, { attributes: PII });
    await send_logs(transport, gw.url(transport), run, 5, { attributes: PII });
    await send_metric_batch(transport, gw.url(transport), run, (meter) => {
      meter.createCounter('it.requests').add(1, PII);
    });
    for (const [signal, n] of [['traces', 5], ['logs', 5], ['metrics', 1]]) {
      for (const [b, got] of await arrived(signal, run, n)) {
        for (const item of got) {
          assert.equal(item.attributes['user.email'], undefined, `${b.kind} backend ${signal}: user.email`);
          assert.equal(item.attributes['user.id'], 'u-42', `${b.kind} backend ${signal}: other attributes kept`);
        }
      }
    }
    for (const b of backends.list) {
      for (const r of b.requests) assert.ok(!r.body.includes(EMAIL), `${b.kind} backend got the address in a ${r.signal} request`);
    }
  });
}

test('filter: a metric excluded by name never arrives', async () => {
  const run = 'filter';
  await send_metric_batch('http', gw.url('http'), run, (meter) => {
    const debug = meter.createCounter('it.debug');
    debug.add(1, { k: 'a' });
    debug.add(1, { k: 'b' });
    meter.createCounter('it.kept').add(1);
  });
  for (const [b, got] of await arrived('metrics', run, 1)) {
    assert.deepEqual(got.map((p) => p.name), ['it.kept'], `${b.kind} backend`);
  }
});

test('dedup: the same batch sent twice arrives once', async () => {
  const run = 'dedup';
  await send_metric_batch('grpc', gw.url('grpc'), run, (meter) => {
    const c = meter.createCounter('it.requests');
    for (let i = 0; i < 4; i++) c.add(i + 1, { route: `/r${i}` });
  }, { times: 2 });
  for (const [b, got] of await arrived('metrics', run, 4)) {
    assert.deepEqual(got.map((p) => p.attributes.route).sort(), ['/r0', '/r1', '/r2', '/r3'], `${b.kind} backend`);
  }
  // The second copy was dropped at the gateway, not lost on the way: the counter says so.
  const m = await gw.metrics();
  assert.equal(metric_value(m, 'otlpgate_processor_items_dropped_total{processor="dedup",pipeline="metrics",reason="duplicate"}'), 4, m);
});

test("relabel: seed 004's rule sets service=elb on aws_applicationelb_* metrics only", async () => {
  const run = 'relabel';
  await send_metric_batch('http', gw.url('http'), run, (meter) => {
    const elb = meter.createCounter('aws_applicationelb_request_count');
    elb.add(3, { LoadBalancer: 'app/shop/1' });
    elb.add(5, { LoadBalancer: 'app/shop/2' });
    meter.createCounter('it.other').add(1);
  });
  for (const [b, got] of await arrived('metrics', run, 3)) {
    const service = Object.fromEntries(got.map((p) => [`${p.name} ${p.attributes.LoadBalancer ?? ''}`, p.attributes.service]));
    assert.deepEqual(service, {
      'aws_applicationelb_request_count app/shop/1': 'elb',
      'aws_applicationelb_request_count app/shop/2': 'elb',
      'it.other ': undefined,
    }, `${b.kind} backend`);
  }
});

test('/metrics shows every stage\'s counters by processor and pipeline', async () => {
  const m = await gw.metrics();
  const value = (series) => metric_value(m, `otlpgate_processor_${series}`);
  const labels = (processor, pipeline) => `processor="${processor}",pipeline="${pipeline}"`;
  assert.equal(value(`items_dropped_total{${labels('filter/debug', 'metrics')},reason="excluded"}`), 2, m);
  assert.equal(value(`items_edited_total{${labels('relabel/elb', 'metrics')}}`), 2, m);
  assert.equal(value(`dedup_window_keys{${labels('dedup', 'metrics')}}`), 2 + 1 + 4 + 3, m);
  for (const pipeline of ['traces', 'logs', 'metrics']) {
    assert.ok(value(`items_seen_total{${labels('redact/pii', pipeline)}}`) > 0, m);
    assert.ok(value(`attributes_redacted_total{${labels('redact/pii', pipeline)},rule="delete_keys"}`) > 0, m);
    assert.ok(value(`items_edited_total{${labels('redact/pii', pipeline)}}`) > 0, m);
  }
});

test('after a draining stop, each backend holds exactly what passed the chain', async () => {
  const exit = await gw.stop('SIGTERM');
  assert.deepEqual(exit, { code: 0, signal: null }, `exit status; stderr:\n${gw.err}`);
  for (const b of backends.list) {
    assert.equal(b.count('metrics', of_run('dedup')), 4, `${b.kind} backend: dedup run`);
    assert.equal(b.count('metrics', of_run('filter')), 1, `${b.kind} backend: filter run`);
    assert.equal(b.count('metrics', of_run('relabel')), 3, `${b.kind} backend: relabel run`);
  }
});
