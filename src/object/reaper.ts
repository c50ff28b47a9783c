// The object expirer and data reclaimer: removes objects whose X-Delete-At has passed (only the version that
// expired, never a newer write of the name) and data no row refers to any more (replaced or deleted versions whose
// removal failed or was cut off by a crash, and uploads abandoned mid-way).
import type { ObjectCore } from "./core.js";
import { reclaim } from "./api/write.js";
import { expiredObjects, garbageKeys, removeObject } from "./store/objects.js";
import { reapTombstones } from "./store/sync.js";
import { runPeriodically, type Periodic } from "./periodic.js";

const BATCH = 500;
/** Seconds after which an upload that never committed is taken for abandoned. */
export const ABANDONED_AFTER = 24 * 3600;
/** Seconds a syncing container remembers a deletion (Swift's reclaim_age, a week). */
export const TOMBSTONE_AGE = 7 * 24 * 3600;

/** One pass: expire, then reclaim. Returns how many objects expired and how many data keys were reclaimed. */
export async function reapOnce(core: ObjectCore): Promise<{ expired: number; reclaimed: number }> {
  let expired = 0;
  for (;;) {
    const due = await expiredObjects(core, Math.floor(Date.now() / 1000), BATCH);
    for (const d of due) {
      const gone = await removeObject(core, d.containerId, d.name, d.dataKey);
      if (gone) {
        expired++;
        await reclaim(core, gone.dataKey);
      }
    }
    if (due.length < BATCH) break;
  }
  const stale = (Date.now() / 1000 - ABANDONED_AFTER).toFixed(5);
  let reclaimed = 0;
  for (;;) {
    const keys = await garbageKeys(core, stale, BATCH);
    for (const k of keys) await reclaim(core, k);
    reclaimed += keys.length;
    if (keys.length < BATCH) break;
  }
  await reapTombstones(core, (Date.now() / 1000 - TOMBSTONE_AGE).toFixed(5));
  return { expired, reclaimed };
}

/** Run reapOnce every `intervalSeconds` until stopped; a failed pass is logged and retried next time. */
export function startReaper(core: ObjectCore, intervalSeconds: number): Periodic {
  return runPeriodically(core, intervalSeconds, "object reaper pass", () => reapOnce(core));
}
