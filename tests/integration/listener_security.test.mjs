// Listener security through the real binary: TLS on OTLP/HTTP, OTLP/gRPC and the Firehose
// listener (certificates made with the openssl CLI at test time, lib/tls.mjs), mTLS, the minimum
// TLS version, the handshake timeout, and bearer-token tenants: refusals that forward nothing,
// the tenant attribute, and tenant routing to different exporters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { GrpcBackend, HttpBackend } from './lib/backends.mjs';
import { start_gateway, backend_exporters, kill_all, write_config, run_check, metric_value } from './lib/gateway.mjs';
import { http_request, post_otlp, grpc_export, raw_connection } from './lib/clients.mjs';
import { decode_status } from './lib/proto.mjs';
import { trace_request } from './lib/fixtures.mjs';
import { tls_files, tls_yaml, client_tls } from './lib/tls.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIREHOSE = path.resolve(here, '../fixtures/firehose/deliveries');
const TOKENS = { 'team-a': 'token-of-team-a-0123456789', 'team-b': 'token-of-team-b-9876543210', 'team-c': 'token-of-team-c-unrouted' };
const bearer = (tenant) => ({ Authorization: `Bearer ${TOKENS[tenant]}` });

let gw, grpc_backend, http_backend;

before(async () => {
  grpc_backend = await new GrpcBackend().start();
  http_backend = await new HttpBackend().start();
  const auth = '        auth: {authenticator: bearertokenauth/clients}\n';
  gw = await start_gateway(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
${auth}${tls_yaml(8)}      http:
        endpoint: 127.0.0.1:0
${auth}${tls_yaml(8)}  otlp/mtls:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
${tls_yaml(8, { client_ca: true })}      http:
        endpoint: 127.0.0.1:0
${tls_yaml(8, { client_ca: true })}  otlp/tls13:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        read_timeout: 1s
${tls_yaml(8, { min_version: '1.3' })}  awsfirehose:
    endpoint: 127.0.0.1:0
    access_key: otlpgate-fixture-access-key
${tls_yaml(4)}exporters:
${backend_exporters(grpc_backend, http_backend)}extensions:
  health_check: {endpoint: 127.0.0.1:0}
  bearertokenauth/clients:
    tenant_attribute: tenant
    tenants:
      - {name: team-a, tokens: ["\${env:IT_TOKEN_A}"]}
      - {name: team-b, tokens: ["\${env:IT_TOKEN_B}"]}
      - {name: team-c, tokens: ["\${env:IT_TOKEN_C}"]}
service:
  extensions: [health_check, bearertokenauth/clients]
  telemetry: {logs: {level: debug}}
  pipelines:
    traces/a:
      receivers: [otlp]
      tenants: [team-a]
      exporters: [otlp/grpcbackend]
    traces/b:
      receivers: [otlp]
      tenants: [team-b]
      exporters: [otlphttp/httpbackend]
    traces/mtls:
      receivers: [otlp/mtls, otlp/tls13]
      exporters: [otlphttp/httpbackend]
    metrics:
      receivers: [awsfirehose]
      exporters: [otlphttp/httpbackend]
`, {
    env: { IT_TOKEN_A: TOKENS['team-a'], IT_TOKEN_B: TOKENS['team-b'], IT_TOKEN_C: TOKENS['team-c'] },
    expect: ['grpc', 'http', 'firehose'],
  });
});

after(async () => {
  kill_all();
  await grpc_backend?.stop();
  await http_backend?.stop();
});

function address(receiver, protocol) {
  const l = gw.listeners.find((x) => x.receiver === receiver && x.protocol === protocol);
  if (!l) throw new Error(`no ${protocol} listener of ${receiver}; stderr:\n${gw.err}`);
  return `127.0.0.1:${l.port}`;
}
const https_url = (receiver, protocol = 'http') => `https://${address(receiver, protocol)}`;
const runs = (backend, run) => backend.items('traces').filter((i) => i.resource['it.run'] === run);

// A TLS handshake with `options` against host:port: resolves 'ok' or the error's code.
function handshake(addr, options) {
  const [host, port] = addr.split(':');
  return new Promise((resolve) => {
    const s = tls.connect({ host, port: Number(port), servername: 'localhost', ...client_tls(), ...options }, () => {
      s.end();
      resolve('ok');
    });
    s.on('error', (e) => resolve(e.code ?? e.message));
  });
}

test('OTLP/HTTP over TLS: the right token delivers to its tenant\'s pipeline, with the tenant attribute', async () => {
  const a = await post_otlp(https_url('otlp'), 'traces', trace_request('tls-http-a', 1), bearer('team-a'), client_tls());
  assert.equal(a.status, 200, a.body.toString());
  const b = await post_otlp(https_url('otlp'), 'traces', trace_request('tls-http-b', 1), bearer('team-b'), client_tls());
  assert.equal(b.status, 200, b.body.toString());
  await grpc_backend.wait_count('traces', 4, { pred: (i) => i.resource['it.run'] === 'tls-http-a' });
  await http_backend.wait_count('traces', 4, { pred: (i) => i.resource['it.run'] === 'tls-http-b' });
  for (const i of runs(grpc_backend, 'tls-http-a')) assert.equal(i.resource.tenant, 'team-a');
  for (const i of runs(http_backend, 'tls-http-b')) assert.equal(i.resource.tenant, 'team-b');
  assert.equal(runs(http_backend, 'tls-http-a').length, 0, 'team-a is not routed to the HTTP backend');
  assert.equal(runs(grpc_backend, 'tls-http-b').length, 0, 'team-b is not routed to the gRPC backend');
});

test('OTLP/gRPC over TLS: the right token in authorization metadata is delivered with the tenant', async () => {
  const { ca } = client_tls();
  await grpc_export(address('otlp', 'grpc'), 'traces', trace_request('tls-grpc-b', 1),
    { tls: { ca }, metadata: { authorization: `Bearer ${TOKENS['team-b']}` } });
  await http_backend.wait_count('traces', 4, { pred: (i) => i.resource['it.run'] === 'tls-grpc-b' });
  for (const i of runs(http_backend, 'tls-grpc-b')) assert.equal(i.resource.tenant, 'team-b');
});

test('no token or a wrong one: 401 / UNAUTHENTICATED and the backends receive nothing', async () => {
  const { ca } = client_tls();
  for (const headers of [{}, { Authorization: 'Bearer not-a-token' }, { Authorization: `Basic ${TOKENS['team-a']}` }]) {
    const r = await post_otlp(https_url('otlp'), 'traces', trace_request('unauth', 1), headers, client_tls());
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer');
    assert.equal(decode_status(r.body).code, 16);
  }
  for (const metadata of [{}, { authorization: 'Bearer not-a-token' }]) {
    await assert.rejects(grpc_export(address('otlp', 'grpc'), 'traces', trace_request('unauth', 1), { tls: { ca }, metadata }),
      (e) => e.code === 16);
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(runs(grpc_backend, 'unauth').length + runs(http_backend, 'unauth').length, 0);
  // Counted on /metrics by receiver, protocol and reason (HTTP: one without a token, two with one
  // that is not a known bearer token; gRPC: one of each).
  const m = await gw.metrics();
  const refused = (protocol, reason) => metric_value(m,
    `otlpgate_receiver_auth_refused_total{receiver="otlp",protocol="${protocol}",reason="${reason}"}`);
  assert.equal(refused('http', 'missing'), 1, m);
  assert.equal(refused('http', 'invalid'), 2, m);
  assert.equal(refused('grpc', 'missing'), 1, m);
  assert.equal(refused('grpc', 'invalid'), 1, m);
});

test('a tenant that no pipeline takes: 403 / PERMISSION_DENIED, forwarded nowhere', async () => {
  const r = await post_otlp(https_url('otlp'), 'traces', trace_request('unrouted', 1), bearer('team-c'), client_tls());
  assert.equal(r.status, 403);
  const st = decode_status(r.body);
  assert.equal(st.code, 7);
  assert.match(st.message, /tenant 'team-c' is not routed by any traces pipeline of receiver 'otlp'/);
  await assert.rejects(grpc_export(address('otlp', 'grpc'), 'traces', trace_request('unrouted', 1),
    { tls: { ca: client_tls().ca }, metadata: { authorization: `Bearer ${TOKENS['team-c']}` } }), (e) => e.code === 7);
  assert.equal(runs(grpc_backend, 'unrouted').length + runs(http_backend, 'unrouted').length, 0);
});

test('the tokens never appear in the gateway\'s log (debug level)', () => {
  assert.match(gw.err, /request refused: (no credentials|unknown bearer token)/, 'refusals are logged at debug');
  for (const t of Object.values(TOKENS)) assert.ok(!gw.err.includes(t), 'token in the log');
  assert.ok(!gw.err.includes('not-a-token'), 'a presented token in the log');
});

test('mTLS: without a client certificate the handshake is refused; with one the request is delivered', async () => {
  await assert.rejects(post_otlp(https_url('otlp/mtls'), 'traces', trace_request('mtls-none', 1), {}, client_tls()));
  const r = await post_otlp(https_url('otlp/mtls'), 'traces', trace_request('mtls-http', 1), {}, client_tls({ client_cert: true }));
  assert.equal(r.status, 200);
  const f = tls_files();
  await assert.rejects(grpc_export(address('otlp/mtls', 'grpc'), 'traces', trace_request('mtls-none', 1),
    { tls: { ca: f.pem.ca }, deadline_ms: 3000 }), (e) => e.code === 14);
  await grpc_export(address('otlp/mtls', 'grpc'), 'traces', trace_request('mtls-grpc', 1),
    { tls: { ca: f.pem.ca, cert: f.pem.client_cert, key: f.pem.client_key } });
  await http_backend.wait_count('traces', 4, { pred: (i) => i.resource['it.run'] === 'mtls-grpc' });
  assert.equal(runs(http_backend, 'mtls-http').length, 4);
  assert.equal(runs(http_backend, 'mtls-none').length, 0);
  // A client certificate from a CA the listener does not trust is refused too.
  const untrusted = { ...client_tls(), cert: f.pem.other_ca, key: fs.readFileSync(f.other_ca.replace('.pem', '.key')) };
  await assert.rejects(post_otlp(https_url('otlp/mtls'), 'traces', trace_request('mtls-other', 1), {}, untrusted));
  assert.equal(runs(http_backend, 'mtls-other').length, 0);
});

test('TLS versions: 1.1 is refused everywhere, 1.2 accepted by default, refused under min_version 1.3', async () => {
  // The client offers TLS 1.1 (and 1.0) only; the HTTP listeners answer with a protocol_version
  // alert, gRPC's TLS drops the connection.
  const old = { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
  for (const addr of [address('otlp', 'http'), address('otlp', 'grpc'), address('awsfirehose', 'firehose')]) {
    const refused = addr === address('otlp', 'grpc') ? /^(ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION|ECONNRESET)$/
      : /^ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION$/;
    assert.match(await handshake(addr, old), refused, `TLS 1.1 at ${addr}`);
    assert.equal(await handshake(addr, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), 'ok', `TLS 1.2 at ${addr}`);
  }
  assert.notEqual(await handshake(address('otlp/tls13', 'http'), { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), 'ok');
  assert.equal(await handshake(address('otlp/tls13', 'http'), { minVersion: 'TLSv1.3' }), 'ok');
});

test('a client that never finishes the TLS handshake is cut off after read_timeout', async () => {
  const conn = await raw_connection(address('otlp/tls13', 'http'));  // read_timeout: 1s
  conn.socket.write(Buffer.from([0x16, 0x03, 0x01]));  // the start of a ClientHello, then nothing
  const started = Date.now();
  const closed = await Promise.race([conn.closed, new Promise((r) => setTimeout(() => r(null), 5000))]);
  assert.ok(closed, 'the connection is still open after 5 s');
  assert.ok(closed - started < 3000, `closed after ${closed - started} ms`);
});

test('Firehose over TLS: a delivery over https is accepted and forwarded', async () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(FIREHOSE, 'MANIFEST.json'), 'utf8'));
  const m = manifest.deliveries.find((d) => d.file === 'cwmetrics_single_record.json');
  const before = http_backend.count('metrics');
  const res = await http_request(`${https_url('awsfirehose', 'firehose')}/`, {
    headers: m.headers, body: fs.readFileSync(path.join(FIREHOSE, m.file)), tls: client_tls(),
  });
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(JSON.parse(res.body.toString()).requestId, m.requestId);
  await http_backend.wait_count('metrics', before + 1);
});

test('--check refuses a TLS file it cannot use, naming the file and the key', () => {
  const file = write_config(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:0
        tls: {cert_file: ${tls_files().server_cert}, key_file: /nonexistent/server.key}
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
`);
  const r = run_check(file);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /receivers\.otlp\.protocols\.http\.tls\.key_file: "\/nonexistent\/server\.key": cannot read/);
});
