// Flat memory while receiving a large body. Node's HTTP parser hands out every received piece (up to 64 KiB) in a
// fresh buffer allocated outside the JS heap. Their JS wrappers are tiny, so they never fill the young generation,
// and V8 only collects the buffers once about 64 MiB of them have piled up: that was the 40-70 MiB of RSS an
// upload grew by. A minor (young-generation) collection after every RECLAIM_EVERY received bytes, shared by all
// streams of the process, frees them while they are few; it costs about a millisecond and finds little else alive.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Received bytes (over all streams) between two minor collections. */
export const RECLAIM_EVERY = 8 << 20;

type Collect = (opts: { type: "minor" | "major" }) => void;
let collect: Collect | null | undefined;
let received = 0;
let runs = 0;

/** V8's gc() without exposing it to the application: a fresh context gets it once the flag is set. */
function collector(): Collect | null {
  if (collect === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      const fn = runInNewContext("gc") as unknown;
      collect = typeof fn === "function" ? (fn as Collect) : null;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** Count `bytes` of a body just received; runs a minor collection once RECLAIM_EVERY bytes have come in. */
export function noteReceived(bytes: number): void {
  received += bytes;
  if (received < RECLAIM_EVERY) return;
  received = 0;
  const gc = collector();
  if (!gc) return;
  gc({ type: "minor" });
  runs++;
}

/** Minor collections run so far (for tests: a large stream must trigger them). */
export function reclaimRuns(): number {
  return runs;
}
