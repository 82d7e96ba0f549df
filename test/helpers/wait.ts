/**
 * Polls `probe` until `done(value)` holds, for behaviour that happens on another instance's schedule. The deadline
 * only bounds a test whose behaviour is missing; nothing is asserted about how fast it happened.
 */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, what: string, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: T;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > until) throw new Error(`${what} did not happen; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
