// Bounded waiting: poll a condition until it holds or a deadline passes (no sleeps as synchronisation).
export async function wait_until(cond, timeout_ms, describe, interval_ms = 20) {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) {
      const what = typeof describe === 'function' ? describe() : describe;
      throw new Error(`timed out after ${timeout_ms} ms waiting for: ${what}`);
    }
    await new Promise((r) => setTimeout(r, interval_ms));
  }
}
