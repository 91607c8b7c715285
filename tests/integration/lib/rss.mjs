// The gateway's resident memory, read from /proc, for the tests that bound it.
import fs from 'node:fs';

// VmRSS of a process in bytes.
export function rss_bytes(pid) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

// True when the process runs the ASan build (its shadow memory and quarantine add to RSS).
export function is_asan(pid) {
  return fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libasan');
}

// Samples rss_bytes(pid) every `interval_ms` until stop() is called; stop() resolves the peak.
export function watch_rss(pid, interval_ms = 20) {
  let peak = rss_bytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rss_bytes(pid));
    } catch {
      // the process exited
    }
  }, interval_ms);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

// ASAN_OPTIONS that keep freed memory from piling up in the quarantine, so that RSS bounds hold
// under the ASan build too.
export const small_quarantine_env = {
  ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=16'].filter(Boolean).join(':'),
};
