// Starts the real otlpgate binary on a config written to a temp dir and reads its listening ports.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wait_until } from './wait.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

export function gateway_bin() {
  const candidates = [process.env.OTLPGATE_BIN, path.resolve(here, '../../../build/server/otlpgate')];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  throw new Error(`otlpgate binary not found (set OTLPGATE_BIN); tried ${candidates.filter(Boolean).join(', ')}`);
}

const temp_dirs = [];
process.on('exit', () => {
  for (const d of temp_dirs) fs.rmSync(d, { recursive: true, force: true });
});

export function temp_dir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'otlpgate-it-'));
  temp_dirs.push(d);
  return d;
}

export function write_config(yaml, name = 'config.yaml') {
  const file = path.join(temp_dir(), name);
  fs.writeFileSync(file, yaml);
  return file;
}

// `otlpgate --config FILE --check`, synchronously: {code, stdout, stderr}.
export function run_check(file, env = {}) {
  const r = spawnSync(gateway_bin(), ['--config', file, '--check'], {
    env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20000,
  });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const LISTENING = /^otlpgate: listening (\S+) (grpc|http|health|firehose) (.+):(\d+)$/;
const running = new Set();

export class Gateway {
  constructor(proc, file) {
    this.proc = proc;
    this.config_file = file;
    this.out = '';
    this.err = '';
    this.listeners = [];  // {receiver, protocol, host, port}
    this.exit = null;     // {code, signal} once exited
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        running.delete(this);
        resolve(this.exit);
      });
    });
    let partial = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => {
      this.err += d;
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const m = LISTENING.exec(line.trimEnd());
        if (m) this.listeners.push({ receiver: m[1], protocol: m[2], host: m[3], port: Number(m[4]) });
      }
    });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => { this.out += d; });
  }

  // host:port of the first listener of a protocol (grpc | http | health | firehose).
  address(protocol) {
    const l = this.listeners.find((x) => x.protocol === protocol);
    if (!l) throw new Error(`gateway has no ${protocol} listener; stderr:\n${this.err}`);
    const host = l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '[::]' ? '[::1]' : l.host;
    return `${host}:${l.port}`;
  }

  url(protocol) {
    return `http://${this.address(protocol)}`;
  }

  // The Prometheus text of /metrics on the health_check listener.
  async metrics() {
    const res = await fetch(`${this.url('health')}/metrics`);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  // Sends a signal and waits for the process to exit: {code, signal}.
  async stop(sig = 'SIGTERM', timeout_ms = 20000) {
    if (this.exit) return this.exit;
    this.proc.kill(sig);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`otlpgate did not exit within ${timeout_ms} ms of ${sig}; stderr:\n${this.err}`)), timeout_ms);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  // For after() hooks: make sure nothing is left running.
  kill() {
    if (!this.exit) this.proc.kill('SIGKILL');
  }
}

// Writes `yaml`, starts otlpgate on it and waits until a listener of every protocol in `expect`
// has been announced on stderr.
export async function start_gateway(yaml, { env = {}, expect = ['grpc', 'http'], timeout_ms = 15000 } = {}) {
  const file = write_config(yaml);
  const proc = spawn(gateway_bin(), ['--config', file], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const gw = new Gateway(proc, file);
  running.add(gw);
  try {
    await wait_until(() => {
      if (gw.exit) throw new Error(`otlpgate exited early (${JSON.stringify(gw.exit)}); stderr:\n${gw.err}`);
      return expect.every((p) => gw.listeners.some((l) => l.protocol === p));
    }, timeout_ms, () => `listeners ${expect.join(', ')} announced; stderr so far:\n${gw.err}`);
  } catch (e) {
    gw.kill();
    throw e;
  }
  return gw;
}

// The value of one series in Prometheus text, given as rendered (`name{label="v",...}`), or
// undefined when absent.
export function metric_value(text, series) {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

export function kill_all() {
  for (const gw of running) gw.kill();
}

// A config with one OTLP receiver (gRPC + HTTP on ephemeral ports) and every signal's pipeline
// going to the given exporters. `exporters` is YAML text for the exporters: map (indented 2);
// `processors` likewise for the processors: map, and `pipeline_processors` lists the ids each
// signal's pipeline runs ({metrics: ['filter/x', ...]}). `http` and `grpc` are extra YAML lines
// (indented 8) for the receiver's protocols, e.g. '        read_timeout: 1s\n'. `extensions` is
// YAML (indented 2) for more extensions, all listed in service.extensions (e.g. bearertokenauth).
export function pipeline_config(exporters_yaml, exporter_ids,
  { health = false, extra = '', processors = '', pipeline_processors = {}, http = '', grpc = '', extensions = '' } = {}) {
  const ids = `[${exporter_ids.join(', ')}]`;
  const extension_ids = [...(health ? ['health_check'] : []),
    ...[...extensions.matchAll(/^ {2}(\S+):/gm)].map((m) => m[1])];
  const extensions_yaml = (health ? '  health_check:\n    endpoint: 127.0.0.1:0\n' : '') + extensions;
  const chain = (signal) => (pipeline_processors[signal]?.length
    ? `      processors: [${pipeline_processors[signal].join(', ')}]\n` : '');
  return `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
${grpc}      http:
        endpoint: 127.0.0.1:0
${http}exporters:
${exporters_yaml}
${processors ? `processors:\n${processors}` : ''}${extensions_yaml ? `extensions:\n${extensions_yaml}` : ''}service:
${extension_ids.length ? `  extensions: [${extension_ids.join(', ')}]\n` : ''}  pipelines:
    traces:
      receivers: [otlp]
${chain('traces')}      exporters: ${ids}
    metrics:
      receivers: [otlp]
${chain('metrics')}      exporters: ${ids}
    logs:
      receivers: [otlp]
${chain('logs')}      exporters: ${ids}
${extra}`;
}

// The exporters block for the two test backends (either may be left out). `common` is extra YAML
// (indented 4) for both.
export function backend_exporters(grpc_backend, http_backend, common = '') {
  const grpc = grpc_backend ? `  otlp/grpcbackend:
    endpoint: ${grpc_backend.endpoint}
    tls:
      insecure: true
${common}` : '';
  const http = http_backend ? `  otlphttp/httpbackend:
    endpoint: ${http_backend.endpoint}
${common}` : '';
  return grpc + http;
}
