// OTLP/HTTP Content-Encoding: gzip, deflate and zstd bodies are decoded and forwarded; the body
// limit applies after decompression and stops a bomb there (413) without the gateway's memory
// growing past it; a compressed body over its own limit is refused before it is decoded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { with_gateway } from './lib/setup.mjs';
import { post_otlp, compress } from './lib/clients.mjs';
import { decode_status } from './lib/proto.mjs';
import { logs_request } from './lib/fixtures.mjs';

const MiB = 1 << 20;
const COMPRESSED_LIMIT = 4 * MiB;  // the body limit stays at its default, 20 MiB

const s = with_gateway({ config: { http: `        max_compressed_body_size: ${COMPRESSED_LIMIT}\n` } });

// Peak and current resident memory of the gateway process, in MiB (Linux /proc).
function memory_mib(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { peak: kib('VmHWM') / 1024, now: kib('VmRSS') / 1024 };
}

// `members` gzip members of `member_mib` MiB of zeros each, concatenated (one stream to gunzip).
function gzip_bomb(member_mib, members) {
  const member = compress('gzip', Buffer.alloc(member_mib * MiB));
  return Buffer.concat(Array(members).fill(member));
}

for (const encoding of ['gzip', 'deflate', 'zstd']) {
  test(`a ${encoding} body is decoded and every item forwarded`, async () => {
    const run = `enc-${encoding}`;
    const body = compress(encoding, logs_request(run, 50));
    const res = await post_otlp(s.gw.url('http'), 'logs', body, { 'Content-Encoding': encoding });
    assert.equal(res.status, 200, res.body.toString('latin1'));
    const mine = (item) => item.resource['it.run'] === run;
    for (const b of s.backends) {
      await b.wait_count('logs', 50, { pred: mine });
      assert.equal(b.count('logs', mine), 50, `${b.kind} backend`);
    }
  });
}

test('Content-Encoding is case-insensitive and identity means none', async () => {
  for (const [encoding, body] of [['GZIP', compress('gzip', logs_request('case', 1))], ['identity', logs_request('id', 1)]]) {
    const res = await post_otlp(s.gw.url('http'), 'logs', body, { 'Content-Encoding': encoding });
    assert.equal(res.status, 200, `${encoding}: ${res.body.toString('latin1')}`);
  }
});

test('a gzip bomb stops at the body limit: 413, and the gateway memory stays low', async () => {
  const bomb = gzip_bomb(64, 16);  // 1 GiB of zeros in about 1 MiB
  const before_mib = memory_mib(s.gw.proc.pid);
  const res = await post_otlp(s.gw.url('http'), 'logs', bomb, { 'Content-Encoding': 'gzip' });
  const after_mib = memory_mib(s.gw.proc.pid);
  assert.equal(res.status, 413);
  const st = decode_status(res.body);
  assert.equal(st.code, 8);
  assert.match(st.message, /exceeds the limit of 20971520 bytes once decompressed/);
  console.log(`gzip bomb: ${(bomb.length / MiB).toFixed(2)} MiB sent (1 GiB decoded); gateway RSS `
    + `${before_mib.now.toFixed(0)} MiB before, peak ${after_mib.peak.toFixed(0)} MiB`);
  // Decoding stops at 20 MiB: peak = the resident set before + the raw body + the 20 MiB limit,
  // with room for allocator slack; decoding it all would take 1 GiB.
  assert.ok(after_mib.peak < before_mib.peak + 80,
    `peak RSS ${after_mib.peak.toFixed(0)} MiB vs ${before_mib.peak.toFixed(0)} MiB before`);
});

test('a zstd bomb stops at the body limit too', async () => {
  const bomb = compress('zstd', Buffer.alloc(256 * MiB));
  const res = await post_otlp(s.gw.url('http'), 'logs', bomb, { 'Content-Encoding': 'zstd' });
  assert.equal(res.status, 413);
  assert.match(decode_status(res.body).message, /once decompressed/);
});

test('a compressed body over max_compressed_body_size is refused before decoding: 413', async () => {
  const noise = compress('gzip', crypto.randomBytes(COMPRESSED_LIMIT + 1024));  // incompressible
  const res = await post_otlp(s.gw.url('http'), 'logs', noise, { 'Content-Encoding': 'gzip' });
  assert.equal(res.status, 413);
  assert.match(decode_status(res.body).message, new RegExp(`exceeds the limit of ${COMPRESSED_LIMIT} bytes`));
});

test('after the bombs the gateway still takes requests', async () => {
  const res = await post_otlp(s.gw.url('http'), 'logs', compress('gzip', logs_request('after', 1)), { 'Content-Encoding': 'gzip' });
  assert.equal(res.status, 200);
});
