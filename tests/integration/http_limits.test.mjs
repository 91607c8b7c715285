// Limits of the HTTP listener: a slowloris client is cut off at read_timeout, an idle keep-alive
// connection at idle_timeout; more connections than max_connections are closed at once; a request
// over max_requests_in_flight gets 503 with Retry-After.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { with_gateway } from './lib/setup.mjs';
import { post_otlp, raw_connection } from './lib/clients.mjs';
import { decode_status } from './lib/proto.mjs';
import { logs_request } from './lib/fixtures.mjs';
import { wait_until } from './lib/wait.mjs';

const READ_TIMEOUT_MS = 2000;
const IDLE_TIMEOUT_MS = 1000;
const MAX_CONNECTIONS = 3;

// Timeouts and one request in flight; and few connections.
const s = with_gateway({ backends: ['http'], config: {
  http: `        read_timeout: ${READ_TIMEOUT_MS}ms\n        idle_timeout: ${IDLE_TIMEOUT_MS}ms\n`
    + '        max_requests_in_flight: 1\n',
} });
const conns = with_gateway({ backends: ['http'], config: { http: `        max_connections: ${MAX_CONNECTIONS}\n` } });

// The head of a POST /v1/logs request with a protobuf body of `length` bytes.
function head(length, extra = '') {
  return `POST /v1/logs HTTP/1.1\r\nHost: otlpgate\r\nContent-Type: application/x-protobuf\r\n`
    + `Content-Length: ${length}\r\n${extra}\r\n`;
}

test('slowloris: a request sent one byte at a time is cut off at read_timeout', async () => {
  const conn = await raw_connection(s.gw.address('http'));
  const request = head(100) + 'x'.repeat(100);
  const started = Date.now();
  let sent = 0;
  const timer = setInterval(() => {
    if (!conn.socket.destroyed && sent < request.length) conn.socket.write(request[sent++]);
  }, 250);
  try {
    const closed = await conn.closed;
    const elapsed = closed - started;
    console.log(`slowloris: cut off after ${elapsed} ms and ${sent} of ${request.length} bytes`);
    assert.ok(sent < request.length, 'cut off before the request was complete');
    assert.ok(elapsed >= READ_TIMEOUT_MS - 100 && elapsed < READ_TIMEOUT_MS + 1500,
      `closed after ${elapsed} ms; read_timeout is ${READ_TIMEOUT_MS} ms`);
    assert.equal(conn.data, '', 'no response to a request that never completed');
  } finally {
    clearInterval(timer);
  }
});

test('an idle keep-alive connection is closed at idle_timeout', async () => {
  const conn = await raw_connection(s.gw.address('http'));
  const body = logs_request('idle', 1);
  conn.socket.write(head(body.length));
  conn.socket.write(body);
  await wait_until(() => conn.data.includes('\r\n\r\n'), 5000, 'the response');
  const answered = Date.now();
  assert.match(conn.data, /^HTTP\/1\.1 200 /);
  const elapsed = (await conn.closed) - answered;
  assert.ok(elapsed >= IDLE_TIMEOUT_MS - 100 && elapsed < IDLE_TIMEOUT_MS + 1500,
    `closed ${elapsed} ms after the response; idle_timeout is ${IDLE_TIMEOUT_MS} ms`);
});

test('over max_requests_in_flight: 503 with Retry-After, and room again once it is answered', async () => {
  // The first request takes the one slot; 100-continue says when the gateway has it.
  const body = logs_request('in-flight', 1);
  const holder = await raw_connection(s.gw.address('http'));
  holder.socket.write(head(body.length, 'Expect: 100-continue\r\n'));
  await wait_until(() => holder.data.includes('100 Continue'), 5000, '100 Continue');

  const res = await post_otlp(s.gw.url('http'), 'logs', logs_request('refused', 1));
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '1');
  const st = decode_status(res.body);
  assert.equal(st.code, 14, 'UNAVAILABLE');
  assert.match(st.message, /too many requests in flight \(limit 1\)/);
  assert.equal(st.retry_delay_s, 1, 'RetryInfo in the status details');

  holder.socket.write(body);
  await wait_until(() => /HTTP\/1\.1 200 /.test(holder.data), 5000, 'the held request answered');
  holder.socket.destroy();
  assert.equal((await post_otlp(s.gw.url('http'), 'logs', logs_request('after', 1))).status, 200);
});

test('connections over max_connections are closed at once; a freed place is taken again', async () => {
  const open = [];
  for (let i = 0; i < MAX_CONNECTIONS; i++) open.push(await raw_connection(conns.gw.address('http')));
  // Each accepted connection is counted before the next accept; the extra one is closed unanswered.
  const extra = await raw_connection(conns.gw.address('http'));
  const started = Date.now();
  const closed = await extra.closed;
  assert.ok(closed - started < 1000, `the extra connection was closed after ${closed - started} ms`);
  assert.equal(extra.data, '');

  open.pop().socket.destroy();
  await wait_until(async () => {
    try {
      return (await post_otlp(conns.gw.url('http'), 'logs', logs_request('freed', 1))).status === 200;
    } catch {
      return false;  // refused while the freed place was not yet given back
    }
  }, 5000, 'a request through the freed connection place');
  for (const c of open) c.socket.destroy();
});
