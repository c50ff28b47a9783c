// Worker thread of the hash pool (hashing.ts): keeps one running hash per job and feeds it byte ranges of the job's
// shared ring buffer, so that digesting an upload never runs on the event loop.
import { createHash, type Hash } from "node:crypto";
import { parentPort } from "node:worker_threads";
import type { ToWorker } from "./hash-protocol.js";

const jobs = new Map<number, { hash: Hash; ring: Buffer }>();
const port = parentPort;
if (!port) throw new Error("hash-worker.js must run as a worker thread");

port.on("message", (m: ToWorker) => {
  try {
    if (m.op === "open") {
      jobs.set(m.job, { hash: createHash(m.algo), ring: Buffer.from(m.ring) });
    } else if (m.op === "update") {
      const j = jobs.get(m.job);
      // An update for a dropped job still acknowledges its slot, so the sender never waits forever.
      if (j) j.hash.update(j.ring.subarray(m.offset, m.offset + m.length));
      port.postMessage({ op: "ack", job: m.job, slot: m.slot });
    } else if (m.op === "digest") {
      const j = jobs.get(m.job);
      jobs.delete(m.job);
      port.postMessage({ op: "digest", job: m.job, hex: j ? j.hash.digest("hex") : "" });
    } else {
      jobs.delete(m.job);
    }
  } catch (err) {
    jobs.delete(m.job);
    port.postMessage({ op: "error", job: m.job, message: err instanceof Error ? err.message : String(err) });
  }
});
