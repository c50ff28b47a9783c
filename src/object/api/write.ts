// Writing an object version: its data to the store driver, or inline in the database when small, then its row.
import { createHash, randomBytes } from "node:crypto";
import type { ObjectCore } from "../core.js";
import { DataTooLarge } from "../drivers/store.js";
import { swiftError, type SwiftError } from "../errors.js";
import type { Container } from "../store/containers.js";
import { isInlineKey, newInlineKey } from "../store/inline.js";
import { addGarbage, commitObject, dropGarbage, type StoredObject } from "../store/objects.js";
import { newTimestamp } from "../timestamp.js";

/** What a new object version is made of. */
export interface WriteSpec {
  source: AsyncIterable<Uint8Array>;
  /** Declared length, checked against what arrives. */
  length?: number;
  /** ETag the client declared (422 on mismatch). */
  etag?: string;
  contentType: string;
  meta: Map<string, string>;
  deleteAt: number | null;
  /** The timestamp to record (a synced write's origin's, a kept version's own); a new one by default. */
  timestamp?: string;
  /** A synced write (container sync): it loses to a version already stored that is as new or newer. */
  synced?: boolean;
}

/** A synced write older than (or as old as) the version already stored: Swift answers 202 and keeps the newer. */
export class OlderThanStored extends Error {}

/** Where a write's data went: a driver key (with its garbage record), or inline data for the commit. */
type Stored = { key: string; size: number; md5: string; inline?: Buffer };

/**
 * Store the data, then commit the row; the data of the replaced version is removed after. Data of at most
 * object.inlineMaxBytes is kept in the database and committed with the row (one durable commit); larger data goes
 * to the store driver under a fresh key recorded as pending garbage until the commit.
 */
export async function writeObject(
  core: ObjectCore,
  c: Container,
  name: string,
  w: WriteSpec,
): Promise<StoredObject> {
  const since = newTimestamp();
  const stored = await storeData(core, w, since);
  const fail = async (err: SwiftError): Promise<never> => {
    await forget(core, stored.key);
    throw err;
  };
  if (w.length !== undefined && stored.size !== w.length) return fail(swiftError(499));
  if (w.etag !== undefined && w.etag.replace(/^"(.*)"$/, "$1").toLowerCase() !== stored.md5)
    return fail(swiftError(422));
  const obj = {
    name,
    size: stored.size,
    etag: stored.md5,
    contentType: w.contentType,
    timestamp: w.timestamp ?? since,
    meta: w.meta,
    deleteAt: w.deleteAt,
    dataKey: stored.key,
  };
  const done = await commitObject(core, c.id, obj, { onlyIfNewer: w.synced === true, inline: stored.inline });
  if (done === "gone") return fail(swiftError(404));
  if (done === "older") {
    await forget(core, stored.key);
    throw new OlderThanStored();
  }
  if (done.replaced) await reclaim(core, done.replaced);
  return { containerId: c.id, ...obj };
}

/** Read the body: small data is kept for an inline commit, the rest streams to the driver (400/413/499 on failure). */
async function storeData(core: ObjectCore, w: WriteSpec, since: string): Promise<Stored> {
  const max = Math.min(core.limits.max_file_size, w.length ?? Number.POSITIVE_INFINITY);
  const tooLarge = () =>
    w.length !== undefined && w.length <= core.limits.max_file_size ? swiftError(400) : swiftError(413);
  let source = w.source;
  const inlineMax = Math.min(core.cfg.object.inlineMaxBytes, core.limits.max_file_size);
  if (inlineMax > 0 && (w.length === undefined || w.length <= inlineMax)) {
    let head: Awaited<ReturnType<typeof peek>>;
    try {
      head = await peek(w.source, inlineMax);
    } catch {
      throw swiftError(499);
    }
    if ("whole" in head) {
      if (head.whole.length > max) throw tooLarge();
      const md5 = createHash("md5").update(head.whole).digest("hex");
      return { key: newInlineKey(), size: head.whole.length, md5, inline: head.whole };
    }
    source = head.rest;
  }
  const key = randomBytes(16).toString("hex");
  await addGarbage(core, key, since);
  try {
    const { size, md5 } = await core.data.put(key, source, { maxBytes: max });
    return { key, size, md5 };
  } catch (e) {
    await forget(core, key);
    throw e instanceof DataTooLarge ? tooLarge() : swiftError(499);
  }
}

/**
 * A body's first bytes: the whole body when it ends within `limit` bytes, else a stream of all of it (the bytes
 * read so far, then the rest).
 */
async function peek(
  source: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ whole: Buffer } | { rest: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) return { whole: Buffer.concat(head, size) };
    head.push(r.value);
    size += r.value.length;
    if (size > limit) break;
  }
  return {
    rest: (async function* () {
      try {
        yield* head;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      } finally {
        // A reader that stops early (data too large) ends the body too, as for-await over it would.
        await it.return?.();
      }
    })(),
  };
}

/** Drop data that no row will refer to (a failed or superseded write's): inline data was never stored. */
async function forget(core: ObjectCore, key: string): Promise<void> {
  if (isInlineKey(key)) return;
  await core.data.delete(key).catch(() => {});
  await dropGarbage(core, key).catch(() => {});
}

/** Remove data no row refers to any more, then forget it (the reaper retries what fails here). */
export async function reclaim(core: ObjectCore, key: string): Promise<void> {
  // Inline data went with its row, in the same commit.
  if (isInlineKey(key)) return;
  try {
    await core.data.delete(key);
    await dropGarbage(core, key);
  } catch (e) {
    core.log.warn({ err: e, key }, "object data removal failed; the reaper will retry");
  }
}
