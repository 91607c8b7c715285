// OTLP/HTTP status table (protobuf): one conformance test per row, over plain HTTP and over TLS.
// Every error answers with a google.rpc.Status body that says what was wrong. 429 (queue full) is
// in overload.test.mjs, 503 (too many requests in flight) in http_limits.test.mjs. The receiver
// requires a bearer token (lib/tls.mjs makes the certificates).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { with_gateway } from './lib/setup.mjs';
import { http_request, post_otlp, compress } from './lib/clients.mjs';
import { decode_response, decode_status } from './lib/proto.mjs';
import { trace_request } from './lib/fixtures.mjs';
import { tls_yaml, client_tls } from './lib/tls.mjs';

const BODY_LIMIT = 65536;
const HEADER_LIMIT = 4096;
const PROTOBUF = 'application/x-protobuf';
const TOKEN = 'status-table-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const EXTENSIONS = `  bearertokenauth/clients:
    tenants:
      - {name: table, tokens: [${TOKEN}]}
`;

for (const transport of ['plain', 'tls']) {
  describe(`OTLP/HTTP status table over ${transport}`, () => {
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
    async function expect_status(req, status, code, message) {
      const headers = { 'Content-Type': PROTOBUF, ...AUTH, ...req.headers };
      for (const [k, v] of Object.entries(headers)) if (v === undefined) delete headers[k];
      const res = await http_request(`${base()}${req.path ?? '/v1/traces'}`, {
        method: req.method ?? 'POST',
        headers,
        body: req.body,
        tls: client,
      });
      assert.equal(res.status, status, `status; body: ${res.body.toString('latin1')}`);
      assert.equal(res.headers.get('content-type'), PROTOBUF, 'the error body is protobuf, as the request');
      const st = decode_status(res.body);
      assert.equal(st.code, code, `google.rpc.Status code; message: ${st.message}`);
      assert.match(st.message, message);
      return res;
    }

    test('200: a valid request is accepted with an empty Export*ServiceResponse', async () => {
      const res = await post_otlp(base(), 'traces', trace_request('status-ok', 1), AUTH, client);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), PROTOBUF);
      assert.deepEqual(decode_response('traces', res.body), {}, 'no partial_success');
      await s.http_backend.wait_count('traces', 4);
    });

    test('200: an empty request is accepted', async () => {
      const res = await post_otlp(base(), 'logs', Buffer.alloc(0), AUTH, client);
      assert.equal(res.status, 200);
      assert.deepEqual(decode_response('logs', res.body), {});
    });

    test('400: an undecodable body (INVALID_ARGUMENT, says where)', async () => {
      await expect_status({ body: Buffer.from([0x0a, 0x7f, 0x01, 0x02]) }, 400, 3,
        /not a valid ExportTraceServiceRequest: length prefix past the end .* at byte \d+/);
    });

    test('400: an unknown Content-Encoding is named', async () => {
      await expect_status({ headers: { 'Content-Encoding': 'br' }, body: trace_request('br', 1) }, 400, 3,
        /unsupported Content-Encoding "br"/);
    });

    test('400: a body that is not what its Content-Encoding says', async () => {
      await expect_status({ headers: { 'Content-Encoding': 'gzip' }, body: trace_request('not-gzip', 1) },
        400, 3, /cannot decode the gzip body: invalid compressed data/);
      const truncated = compress('zstd', trace_request('cut', 1)).subarray(0, 20);
      await expect_status({ headers: { 'Content-Encoding': 'zstd' }, body: truncated }, 400, 3,
        /cannot decode the zstd body/);
    });

    test('401: no token or a wrong one (UNAUTHENTICATED, WWW-Authenticate: Bearer)', async () => {
      const before = s.http_backend.count('traces');
      const none = await expect_status({ headers: { Authorization: undefined }, body: trace_request('anon', 1) },
        401, 16, /missing credentials/);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      const wrong = await expect_status({ headers: { Authorization: `Bearer ${TOKEN}x` }, body: trace_request('bad', 1) },
        401, 16, /invalid credentials/);
      assert.equal(wrong.headers.get('www-authenticate'), 'Bearer');
      assert.equal(s.http_backend.count('traces'), before, 'nothing forwarded');
    });

    test('404: an unknown path', async () => {
      await expect_status({ path: '/v1/profiles', body: trace_request('p', 1) }, 404, 5,
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
        /unsupported content type "text\/plain"/);
    });

    test('431: a header over max_header_size', async () => {
      await expect_status({ headers: { 'X-Padding': 'x'.repeat(2 * HEADER_LIMIT) }, body: trace_request('h', 1) },
        431, 3, new RegExp(`request header exceeds the limit of ${HEADER_LIMIT} bytes`));
    });

    test('the gateway keeps serving after every error above', async () => {
      assert.equal((await post_otlp(base(), 'traces', trace_request('after', 1), AUTH, client)).status, 200);
    });
  });
}
