// The health_check extension answers 200 on its own port once the listeners are up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HttpBackend } from './lib/backends.mjs';
import { start_gateway, pipeline_config, kill_all } from './lib/gateway.mjs';

let backend;
let gw;

before(async () => {
  backend = await new HttpBackend().start();
  const exporters = `  otlphttp:
    endpoint: ${backend.endpoint}
`;
  gw = await start_gateway(pipeline_config(exporters, ['otlphttp'], { health: true }),
    { expect: ['grpc', 'http', 'health'] });
});

after(async () => {
  kill_all();
  await backend?.stop();
});

test('health_check answers 200 on its announced port', async () => {
  const res = await fetch(`${gw.url('health')}/`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});

test('the health port is not the OTLP/HTTP port', () => {
  assert.notEqual(gw.address('health'), gw.address('http'));
});
