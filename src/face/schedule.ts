import { FaceError } from './errors.js';
import type { Lane, Purpose } from './types.js';

export interface SchedulerOptions {
  /** Workers. */
  size: number;
  /** Analyses admitted beyond `size` (reserved, waiting or running) before OVERLOADED. */
  maxQueue: number;
  /** The promise to callers: no admitted request waits longer than this for workers (its own analyses aside). */
  maxWaitMs: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  now?: () => number;
}

/**
 * A worker's time assumed for a purpose before any analysis was measured: a few times a lone verification on this
 * project's 2-vCPU hosts (src/face/README.md, Speed), so a burst that meets a cold engine on a busy host is not
 * admitted beyond what the workers can do; the first measurement replaces it.
 */
const INITIAL_SERVICE_MS = 100;
/**
 * Weight of each new measurement in a purpose's running mean: a slower analysis counts at once (the host got busy:
 * admitting by the old mean would promise waits that do not hold), a faster one over about ten analyses.
 */
const SLOWER_WEIGHT = 0.5;
const FASTER_WEIGHT = 0.1;
const RETRY_AFTER_S = 1;

/** The worker that frees up first. */
function earliest(free: readonly number[]): number {
  let j = 0;
  for (let i = 1; i < free.length; i++) if (free[i]! < free[j]!) j = i;
  return j;
}

const overloaded = (waitMs = 0) =>
  new FaceError('OVERLOADED', 'The face engine is busy; try again shortly', { retryAfter: Math.max(RETRY_AFTER_S, Math.ceil(waitMs / 1000)) });

/**
 * How long an analysis of each purpose holds a worker, as the main thread sees it (handed to the worker → result
 * back): a running mean per purpose, so a request is judged by the analyses it really needs (a selfie's liveness
 * and embedding, a reference's mirrored embedding, a frame's landmarks only), and the means follow the host when
 * other work slows it down (the main thread's own delays in collecting a result count too: the worker waits them).
 */
export class ServiceTimes {
  readonly #ms = new Map<Purpose, number>();

  /** A purpose not measured yet is assumed as slow as the slowest one measured. */
  get(purpose: Purpose): number {
    const ms = this.#ms.get(purpose);
    if (ms !== undefined) return ms;
    return this.#ms.size > 0 ? Math.max(...this.#ms.values()) : INITIAL_SERVICE_MS;
  }

  record(purpose: Purpose, ms: number): void {
    const mean = this.#ms.get(purpose);
    this.#ms.set(purpose, mean === undefined ? ms : mean + (ms > mean ? SLOWER_WEIGHT : FASTER_WEIGHT) * (ms - mean));
  }
}

/**
 * The analyses one request was admitted for: reserved at admission, so the wait promised to it and to every
 * request admitted after it counts them before they are submitted (a document's portrait is analysed only once
 * its MRZ is read), and its analyses go ahead of those of requests admitted later. `extend` adds analyses the
 * request turns out to need (or throws OVERLOADED and adds none); `release` gives back what was not used: the caller
 * must call it when the request ends.
 *
 * The request's wait is the time it has analyses waiting and none running: a second analysis waiting for the
 * request's own first one (on one worker) is the request's own work, not a wait for others.
 */
export class Admission {
  /** Purposes reserved and not submitted yet. */
  readonly reserved: Purpose[];
  /** Set when one of its analyses missed its deadline: the request fails, so its other analyses are not run. */
  failed: FaceError | null = null;
  #waiting = 0;
  #running = 0;
  #waitedMs = 0;
  #since = 0;

  constructor(
    readonly seq: number,
    readonly lane: Lane,
    readonly tenant: string | undefined,
    purposes: readonly Purpose[],
    readonly extend: (purposes: readonly Purpose[]) => void,
    readonly release: () => void,
  ) {
    this.reserved = [...purposes];
  }

  /** Milliseconds the request has waited for a worker so far. */
  waitedMs(now: number): number {
    return this.#waitedMs + (this.stalled ? now - this.#since : 0);
  }

  /** Records that one of its analyses starts waiting (+1 waiting), gets a worker (−1 waiting, +1 running), ends… */
  change(now: number, waiting: number, running: number): void {
    if (this.stalled) this.#waitedMs += now - this.#since;
    this.#waiting += waiting;
    this.#running += running;
    this.#since = now;
  }

  /** Some of its analyses wait and none runs: its wait grows. */
  get stalled(): boolean {
    return this.#waiting > 0 && this.#running === 0;
  }
}

export interface AdmitOptions {
  /** Default 'trusted'. */
  lane?: Lane;
  /** Who asks (an API client's id): shares of the engine are kept fair between tenants. */
  tenant?: string;
}

interface Tenant {
  /** Analyses admitted and not settled. */
  admitted: number;
  refusedAt: number;
}

interface Waiting {
  admission: Admission;
  purpose: Purpose;
  shareable: boolean;
  start: (run: Running) => void;
  drop: (err: FaceError) => void;
}

interface Running {
  admission: Admission;
  purpose: Purpose;
  startedAt: number;
  /** Workers it holds: 2 when one analysis is shared by two idle workers. */
  slots: number;
}

/**
 * Admission and dispatch for the worker pool (src/face/README.md, Admission). A request is admitted for all its
 * analyses at once, by how long it would wait for workers (simulated from the measured service times of what runs,
 * waits and is reserved ahead of it); beyond `maxWaitMs` it is refused at once with OVERLOADED and that wait as
 * Retry-After. Analyses wait here, in admission order, and piscina gets one only when a worker is free: its own
 * queue keeps no order for tasks with an abort signal. A request that can no longer start within `maxWaitMs` (the
 * host slowed down after it was admitted) is refused as soon as that shows, and its work is not run.
 */
export class Scheduler {
  readonly times = new ServiceTimes();
  readonly #size: number;
  readonly #maxQueue: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  #seq = 0;
  readonly #waiting: Waiting[] = [];
  readonly #running = new Set<Running>();
  /** Admissions with purposes still reserved. */
  readonly #open = new Set<Admission>();
  readonly #tenants = new Map<string, Tenant>();
  /** Analyses admitted and not settled (reserved, waiting or running), and how many of them are anonymous. */
  #admitted = 0;
  #anonymous = 0;
  #pumpQueued = false;

  constructor(opts: SchedulerOptions) {
    this.#size = opts.size;
    this.#maxQueue = opts.maxQueue;
    this.#maxWaitMs = opts.maxWaitMs;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Analyses running (a shared one counts once) and waiting for a worker. */
  stats(): { running: number; queued: number } {
    return { running: this.#running.size, queued: this.#waiting.length };
  }

  /**
   * How long a request for `purposes`, admitted now, would wait for workers: workers free up as what runs there is
   * expected to end, then take what waits and what earlier admissions reserved, then the request's analyses, each
   * for its purpose's service time; the wait is the time until its last analysis ends during which none of its
   * analyses runs.
   */
  expectedWaitMs(purposes: readonly Purpose[]): number {
    const free = this.#freeAt(this.#now());
    const place = (purpose: Purpose): [number, number] => {
      const j = earliest(free);
      const start = free[j]!;
      free[j] = start + this.times.get(purpose);
      return [start, free[j]!];
    };
    for (const w of this.#waiting) place(w.purpose);
    for (const a of this.#open) for (const p of a.reserved) place(p);
    const own = purposes.map(place).sort((a, b) => a[0] - b[0]);
    // From the admission to the last end, minus the time covered by the request's own analyses.
    let end = 0;
    let busy = 0;
    for (const [start, finish] of own) {
      busy += Math.max(0, finish - Math.max(start, end));
      end = Math.max(end, finish);
    }
    return end - busy;
  }

  /** When each worker is expected to be free, from now: the rest of the service time of what runs there. */
  #freeAt(now: number): number[] {
    const free: number[] = [];
    for (const r of this.#running) for (let i = 0; i < r.slots; i++) free.push(Math.max(0, this.times.get(r.purpose) - (now - r.startedAt)));
    while (free.length < this.#size) free.push(0);
    return free;
  }

  /**
   * Admits a request for all of `purposes`, or throws OVERLOADED (with Retry-After) and admits nothing. A `tenant`
   * (an API client) gets at most its fair share of the engine while others are being refused (`#fairShare`).
   */
  admit(purposes: readonly Purpose[], opts: AdmitOptions = {}): Admission {
    this.#check(purposes, opts, 0);
    const admission: Admission = new Admission(
      ++this.#seq,
      opts.lane ?? 'trusted',
      opts.tenant,
      purposes,
      (more) => this.#extend(admission, more),
      () => {
        this.#settle(admission, admission.reserved.length);
        admission.reserved.length = 0;
        this.#open.delete(admission);
      },
    );
    this.#count(admission, purposes.length);
    if (purposes.length > 0) this.#open.add(admission);
    return admission;
  }

  /**
   * Adds `purposes` to what `a` reserved, judged as if the request had been admitted for all of them now (its own
   * reservations are its work, not work ahead of it), or throws OVERLOADED and adds nothing.
   */
  #extend(a: Admission, purposes: readonly Purpose[]): void {
    if (a.failed) throw a.failed;
    if (purposes.length === 0) return;
    this.#open.delete(a);
    try {
      this.#check([...a.reserved, ...purposes], { lane: a.lane, tenant: a.tenant }, a.reserved.length);
    } finally {
      if (a.reserved.length > 0) this.#open.add(a);
    }
    a.reserved.push(...purposes);
    this.#count(a, purposes.length);
    this.#open.add(a);
  }

  /** Throws OVERLOADED unless a request for `purposes`, `held` of which are already counted, can be admitted now. */
  #check(purposes: readonly Purpose[], { lane = 'trusted', tenant }: AdmitOptions, held: number): void {
    const n = purposes.length - held;
    const refuse = (waitMs = 0) => {
      if (tenant !== undefined) this.#tenant(tenant).refusedAt = this.#now();
      return overloaded(waitMs);
    };
    if (this.#admitted + n > this.#size + this.#maxQueue) throw refuse();
    if (lane === 'anonymous' && this.#anonymous + n > this.#size + Math.floor(this.#maxQueue / 2)) throw refuse();
    const wait = this.expectedWaitMs(purposes);
    if (wait > this.#maxWaitMs) throw refuse(wait);
    if (tenant !== undefined && this.#tenant(tenant).admitted + n > Math.max(purposes.length, this.#fairShare(tenant, purposes))) throw refuse(wait);
  }

  /**
   * Runs `task` on a worker for an analysis of `purpose`: one reserved by `admission`, or else admitted alone now.
   * `task` learns whether it holds two workers: a shareable analysis that finds two idle and nothing else waiting.
   */
  async run<T>(admission: Admission | undefined, purpose: Purpose, lane: Lane, shareable: boolean, task: (shared: boolean) => Promise<T>): Promise<T> {
    if (admission?.failed) throw admission.failed;
    const owner = admission?.reserved.includes(purpose) ? admission : this.admit([purpose], { lane, tenant: admission?.tenant });
    // From reserved to waiting: still admitted, now counted in the queue instead.
    owner.reserved.splice(owner.reserved.indexOf(purpose), 1);
    if (owner.reserved.length === 0) this.#open.delete(owner);
    const run = await new Promise<Running>((start, drop) => {
      const w: Waiting = { admission: owner, purpose, shareable, start, drop };
      owner.change(this.#now(), +1, 0);
      // After the last waiting analysis of an earlier or the same admission: reserved work keeps its place.
      let at = this.#waiting.length;
      while (at > 0 && this.#waiting[at - 1]!.admission.seq > owner.seq) at--;
      this.#waiting.splice(at, 0, w);
      this.#schedulePump();
    });
    let ok = false;
    try {
      const result = await task(run.slots === 2);
      ok = true;
      return result;
    } finally {
      this.#running.delete(run);
      owner.change(this.#now(), 0, -1);
      this.#settle(owner, 1);
      // A failed analysis (undecodable input, a worker that died) says nothing about how long analyses take; a
      // shared one holds two workers for less than one would.
      if (ok && run.slots === 1) this.times.record(purpose, this.#now() - run.startedAt);
      this.#schedulePump();
    }
  }

  #count(a: Admission, n: number): void {
    this.#admitted += n;
    if (a.lane === 'anonymous') this.#anonymous += n;
    if (a.tenant !== undefined) this.#tenant(a.tenant).admitted += n;
  }

  /** A tenant's admitted analyses and last refusal; one that holds none and was not refused lately is forgotten. */
  #tenant(name: string): Tenant {
    const now = this.#now();
    for (const [other, t] of this.#tenants) if (t.admitted === 0 && now - t.refusedAt > this.#maxWaitMs) this.#tenants.delete(other);
    let t = this.#tenants.get(name);
    if (!t) this.#tenants.set(name, (t = { admitted: 0, refusedAt: -Infinity }));
    return t;
  }

  /**
   * Max-min fairness over what the engine can start within `maxWaitMs` (its workers, each taking one analysis
   * per service time): tenants that were not refused lately keep what they hold, and the rest is shared equally by
   * `tenant` and the tenants refused lately. Without it, whoever happens to ask just as a worker frees up is
   * admitted: in one overload benchmark run, eight equal API clients got 4 to 19 answers each.
   */
  #fairShare(tenant: string, purposes: readonly Purpose[]): number {
    const now = this.#now();
    const meanMs = purposes.reduce((sum, p) => sum + this.times.get(p), 0) / purposes.length;
    const capacity = this.#size * (1 + this.#maxWaitMs / meanMs);
    let wanting = 1;
    let kept = 0;
    for (const [name, t] of this.#tenants) {
      if (name === tenant) continue;
      if (now - t.refusedAt <= this.#maxWaitMs) wanting++;
      else kept += t.admitted;
    }
    return (capacity - kept) / wanting;
  }

  #settle(a: Admission, n: number): void {
    this.#count(a, -n);
  }

  /**
   * Dispatch waits for the end of the current tick: analyses submitted together (a selfie and its reference) all
   * wait before any starts, so none of them takes both workers for itself.
   */
  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #pump(): void {
    let busy = 0;
    for (const r of this.#running) busy += r.slots;
    while (busy < this.#size && this.#waiting.length > 0) {
      const next = this.#waiting.shift()!;
      const now = this.#now();
      next.admission.change(now, -1, 0);
      if (next.admission.waitedMs(now) > this.#maxWaitMs) {
        this.#fail(next.admission, overloaded(this.expectedWaitMs([next.purpose])));
        this.#settle(next.admission, 1);
        next.drop(next.admission.failed!);
        continue;
      }
      const slots = next.shareable && this.#size - busy >= 2 && this.#waiting.length === 0 ? 2 : 1;
      next.admission.change(now, 0, +1);
      const run: Running = { admission: next.admission, purpose: next.purpose, startedAt: now, slots };
      this.#running.add(run);
      busy += slots;
      next.start(run);
    }
    this.#shedDoomed();
  }

  /**
   * Refuses now, not when a worker frees up for it, each waiting request that can no longer start within its wait
   * by the measured service times (the host slowed down after it was admitted): its caller learns it at once.
   */
  #shedDoomed(): void {
    const now = this.#now();
    const free = this.#freeAt(now);
    const doomed = new Map<Admission, number>();
    for (const w of this.#waiting) {
      if (doomed.has(w.admission)) continue;
      const j = earliest(free);
      const wait = w.admission.waitedMs(now) + free[j]!;
      // Only a request none of whose analyses runs is waiting; a refused one frees its place for those behind.
      if (w.admission.stalled && wait > this.#maxWaitMs) doomed.set(w.admission, wait);
      else free[j]! += this.times.get(w.purpose);
    }
    for (const [a, wait] of doomed) this.#fail(a, overloaded(wait));
  }

  /** The request of `a` will be refused: its other waiting analyses are dropped and its reservations given back. */
  #fail(a: Admission, err: FaceError): void {
    a.failed ??= err;
    for (let i = this.#waiting.length - 1; i >= 0; i--) {
      const w = this.#waiting[i]!;
      if (w.admission !== a) continue;
      this.#waiting.splice(i, 1);
      a.change(this.#now(), -1, 0);
      this.#settle(a, 1);
      w.drop(a.failed);
    }
    a.release();
  }
}
