// OTLP/HTTP status table: one conformance test per row, for protobuf and for JSON requests, over
// plain HTTP and over TLS. Every error answers with a google.rpc.Status body that says what was
// wrong, in the request's encoding (415 excepted: its request has no OTLP encoding). 429 (queue full) is
// in overload.test.mjs, 503 (too many requests in flight) in http_limits.test.mjs. The receiver
// requires a bearer token (lib/tls.mjs makes the certificates).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { with_gateway } from './lib/setup.mjs';
import { http_request, compress } from './lib/clients.mjs';
import { decode_response, decode_status } from './lib/proto.mjs';
import { trace_request } from './lib/fixtures.mjs';
import { tls_yaml, client_tls } from './lib/tls.mjs';

const BODY_LIMIT = 65536;
const HEADER_LIMIT = 4096;
const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';
const TOKEN = 'status-table-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const EXTENSIONS = `  bearertokenauth/clients:
    tenants:
      - {name: table, tokens: [${TOKEN}]}
`;

// A valid trace request of 4 spans (2 resources x 2 scopes, as trace_request(run, 1)) in OTLP JSON.
function trace_json(run) {
  const hex = (n, len) => n.toString(16).padStart(2, '0').repeat(len);
  const resourceSpans = [0, 1].map((r) => ({
    resource: { attributes: [{ key: 'service.name', value: { stringValue: `svc-${r}` } },
      { key: 'it.run', value: { stringValue: run } }] },
    scopeSpans: [0, 1].map((sc) => ({
      scope: { name: `scope-${sc}` },
      spans: [{ traceId: hex(r + 1, 16), spanId: hex(r * 2 + sc + 1, 8), name: 'op', kind: 2,
        startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000000500000',
        attributes: [{ key: 'n', value: { intValue: String(r * 2 + sc) } }] }],
    })),
  }));
  return Buffer.from(JSON.stringify({ resourceSpans }));
}

const ENCODINGS = {
  protobuf: {
    type: PROTOBUF,
    valid: (run) => trace_request(run, 1),
    undecodable: Buffer.from([0x0a, 0x7f, 0x01, 0x02]),
    undecodable_message: /not a valid ExportTraceServiceRequest: length prefix past the end .* at byte \d+/,
    status: (body) => decode_status(body),
    response: (body) => decode_response('traces', body),
  },
  json: {
    type: JSON_TYPE,
    valid: trace_json,
    undecodable: Buffer.from('{"resourceSpans": [{"scopeSpans": '),
    undecodable_message: /invalid OTLP JSON/,
    status: (body) => JSON.parse(body.toString('utf8')),
    response: (body) => JSON.parse(body.toString('utf8')),
  },
};

for (const transport of ['plain', 'tls']) for (const [encoding, enc] of Object.entries(ENCODINGS)) {
  describe(`OTLP/HTTP status table, ${encoding} over ${transport}`, () => {
    const tls = transport === 'tls';
    const s = with_gateway({
      config: {
        http: `        max_request_body_size: ${BODY_LIMIT}\n        max_header_size: ${HEADER_LIMIT}\n` +
          '        auth: {authenticator: bearertokenauth/clients}\n' + (tls ? tls_yaml(8) : ''),
        extensions: EXTENSIONS,
      },
    });
    const base = () => (tls ? `https://${s.gw.address('http')}` : s.gw.url('http'));
    const client = tls ? client_tls() : undefined;

    // Sends `req` ({path, method, headers, body}; the token unless headers override it) and checks
    // the status, the protobuf google.rpc.Status body's code and message; resolves the response.
    async function expect_status(req, status, code, message, response_type = enc.type) {
      const headers = { 'Content-Type': enc.type, ...AUTH, ...req.headers };
      for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
      const res = await http_request(`${base()}${req.path ?? '/v1/traces'}`, {
        method: req.method ?? 'POST',
        headers,
        body: req.body,
        tls: client,
      });
      assert.equal(res.status, status, `status; body: ${res.body.toString('latin1')}`);
      assert.equal(res.headers.get('content-type'), response_type, 'the error body is in the request\'s encoding');
      const st = response_type === PROTOBUF ? decode_status(res.body) : enc.status(res.body);
      assert.equal(st.code, code, `google.rpc.Status code; message: ${st.message}`);
      assert.match(st.message, message);
      return res;
    }

    // POSTs `body` to /v1/<signal> in this table's encoding.
    const post = (signal, body, headers = AUTH) =>
      http_request(`${base()}/v1/${signal}`, { method: 'POST', headers: { 'Content-Type': enc.type, ...headers }, body, tls: client });

    test('200: a valid request is accepted with an empty Export*ServiceResponse', async () => {
      const res = await post('traces', enc.valid('status-ok'));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), enc.type);
      assert.deepEqual(enc.response(res.body), {}, 'no partial_success');
      await s.http_backend.wait_count('traces', 4);
    });

    test('200: an empty request is accepted', async () => {
      const res = await post('logs', Buffer.alloc(0));
      assert.equal(res.status, 200);
      assert.deepEqual(enc.response(res.body), {});
    });

    test('400: an undecodable body (INVALID_ARGUMENT, says what is wrong)', async () => {
      await expect_status({ body: enc.undecodable }, 400, 3, enc.undecodable_message);
    });

    test('400: an unknown Content-Encoding is named', async () => {
      await expect_status({ headers: { 'Content-Encoding': 'br' }, body: enc.valid('br') }, 400, 3,
        /unsupported Content-Encoding "br"/);
    });

    test('400: a body that is not what its Content-Encoding says', async () => {
      await expect_status({ headers: { 'Content-Encoding': 'gzip' }, body: enc.valid('not-gzip') },
        400, 3, /cannot decode the gzip body: invalid compressed data/);
      const truncated = compress('zstd', enc.valid('cut')).subarray(0, 20);
      await expect_status({ headers: { 'Content-Encoding': 'zstd' }, body: truncated }, 400, 3,
        /cannot decode the zstd body/);
    });

    test('401: no token or a wrong one (UNAUTHENTICATED, WWW-Authenticate: Bearer)', async () => {
      const before = s.http_backend.count('traces');
      const none = await expect_status({ headers: { Authorization: undefined }, body: enc.valid('anon') },
        401, 16, /missing credentials/);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      const wrong = await expect_status({ headers: { Authorization: `Bearer ${TOKEN}x` }, body: enc.valid('bad') },
        401, 16, /invalid credentials/);
      assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
      assert.equal(s.http_backend.count('traces'), before, 'nothing forwarded');
    });

    test('404: an unknown path', async () => {
      await expect_status({ path: '/v1/profiles', body: enc.valid('p') }, 404, 5,
        /unknown path \/v1\/profiles/);
    });

    test('405: a method other than POST, with Allow: POST', async () => {
      const res = await expect_status({ method: 'GET' }, 405, 12, /method GET not allowed, use POST/);
      assert.equal(res.headers.get('allow'), 'POST');
    });

    test('413: a body over max_request_body_size', async () => {
      await expect_status({ body: Buffer.alloc(BODY_LIMIT + 1, 0x0a) }, 413, 8,
        new RegExp(`exceeds the limit of ${BODY_LIMIT} bytes`));
    });

    test('415: an unsupported content type', async () => {
      await expect_status({ headers: { 'Content-Type': 'text/plain' }, body: 'hello' }, 415, 3,
        /unsupported content type "text\/plain"/, PROTOBUF);
    });

    test('431: a header over max_header_size', async () => {
      await expect_status({ headers: { 'X-Padding': 'x'.repeat(2 * HEADER_LIMIT) }, body: enc.valid('h') },
        431, 3, new RegExp(`request header exceeds the limit of ${HEADER_LIMIT} bytes`));
    });

    test('the gateway keeps serving after every error above', async () => {
      assert.equal((await post('traces', enc.valid('after'))).status, 200);
    });
  });
}
