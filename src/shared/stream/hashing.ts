// A small pool of worker threads that compute running hashes (md5, sha512, ...) of data placed in shared ring
// buffers. The event loop only copies bytes into the ring and posts slot numbers; each algorithm of a job runs on
// its own worker, so md5 and sha512 of one upload proceed in parallel with each other and with the disk writes.
import { Worker } from "node:worker_threads";
import type { FromWorker, ToWorker } from "./hash-protocol.js";

/** Worker threads in the pool: enough for the two hashes of an image upload to run side by side. */
export const HASH_WORKERS = 2;

/** One running hash in a worker: feed it filled ring slots in order, then ask for the digest. */
export interface HashJob {
  /** Hash `length` bytes of the ring at `offset`; `onAck(slot)` runs once the worker is done with them. */
  update(slot: number, offset: number, length: number): void;
  /** The hex digest of everything fed so far; ends the job. */
  digest(): Promise<string>;
  /** Abandon the job (pending slots are still acknowledged). */
  drop(): void;
}

interface Handlers {
  ack(slot: number): void;
  digest(hex: string): void;
  fail(err: Error): void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly jobs = new Map<number, Handlers>();
  dead = false;

  constructor(onDead: (w: PoolWorker) => void) {
    this.worker = new Worker(new URL("./hash-worker.js", import.meta.url));
    this.worker.unref();
    this.worker.on("message", (m: FromWorker) => {
      const h = this.jobs.get(m.job);
      if (!h) return;
      if (m.op === "ack") h.ack(m.slot);
      else if (m.op === "digest") h.digest(m.hex);
      else h.fail(new Error(`hash worker: ${m.message}`));
    });
    const die = (err: Error) => {
      if (this.dead) return;
      this.dead = true;
      onDead(this);
      for (const h of [...this.jobs.values()]) h.fail(err);
      this.jobs.clear();
    };
    this.worker.on("error", (err) => die(err));
    this.worker.on("exit", (code) => die(new Error(`hash worker exited with code ${code}`)));
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  add(job: number, h: Handlers): void {
    // A worker with work keeps the process alive until the work is done; an idle one never does.
    if (this.jobs.size === 0) this.worker.ref();
    this.jobs.set(job, h);
  }

  remove(job: number): void {
    if (this.jobs.delete(job) && this.jobs.size === 0) this.worker.unref();
  }
}

const workers: Array<PoolWorker | undefined> = [];
let nextJob = 1;

function workerFor(index: number): PoolWorker {
  const i = index % HASH_WORKERS;
  let w = workers[i];
  if (!w || w.dead)
    workers[i] = w = new PoolWorker((dead) => {
      if (workers[i] === dead) workers[i] = undefined;
    });
  return w;
}

/**
 * Start hashing with `algo` over `ring`, on the pool's worker number `lane` (give each algorithm of one stream its
 * own lane so they run in parallel). `onAck(slot)` runs in order for every updated slot, also when the job fails
 * or is dropped; `onError` reports a failed worker (the digest promise then rejects too).
 */
export function openHashJob(
  algo: string,
  ring: SharedArrayBuffer,
  lane: number,
  onAck: (slot: number) => void,
): HashJob {
  const w = workerFor(lane);
  const job = nextJob++;
  const pending: number[] = [];
  let dropped = false;
  let settle: { resolve(hex: string): void; reject(err: Error): void } | null = null;
  let failed: Error | null = null;
  const finishIfIdle = () => {
    if (dropped && pending.length === 0) w.remove(job);
  };
  w.add(job, {
    ack(slot) {
      pending.shift();
      onAck(slot);
      finishIfIdle();
    },
    digest(hex) {
      w.remove(job);
      settle?.resolve(hex);
    },
    fail(err) {
      failed = err;
      w.remove(job);
      for (const slot of pending.splice(0)) onAck(slot);
      settle?.reject(err);
    },
  });
  w.post({ op: "open", job, algo, ring });
  return {
    update(slot, offset, length) {
      if (failed || dropped) return onAck(slot);
      pending.push(slot);
      w.post({ op: "update", job, slot, offset, length });
    },
    digest() {
      if (failed) return Promise.reject(failed);
      return new Promise<string>((resolve, reject) => {
        settle = { resolve, reject };
        w.post({ op: "digest", job });
      });
    },
    drop() {
      if (dropped || failed) return;
      dropped = true;
      w.post({ op: "drop", job });
      finishIfIdle();
    },
  };
}

/** Jobs open in the pool and live worker threads (for tests: an interrupted stream must leave no job behind). */
export function hashPoolStats(): { workers: number; jobs: number } {
  const live = workers.filter((w): w is PoolWorker => !!w && !w.dead);
  return { workers: live.length, jobs: live.reduce((n, w) => n + w.jobs.size, 0) };
}

/** Stop the pool's worker threads (they are restarted on demand). */
export async function closeHashPool(): Promise<void> {
  const live = workers.splice(0).filter((w): w is PoolWorker => !!w && !w.dead);
  await Promise.all(live.map((w) => w.worker.terminate()));
}
