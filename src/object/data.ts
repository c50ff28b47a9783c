import { Readable } from "node:stream";
import type { ObjectDataStore, PutResult } from "./drivers/store.js";
import { deleteInline, isInlineKey, readInline } from "./store/inline.js";
import type { ObjectDb } from "./store/tables.js";

/** Bytes [start, end] of `buf` (the whole of it without a range). */
const slice = (buf: Buffer, range?: { start: number; end: number }): Buffer =>
  range ? buf.subarray(range.start, range.end + 1) : buf;

/**
 * The object service's data: the configured store driver, plus small objects' data kept in the database under
 * inline keys (written by commitObject, never through put). Readers need not know where an object's data is.
 */
export class ObjectData implements ObjectDataStore {
  readonly id: string;

  constructor(
    private readonly driver: ObjectDataStore,
    private readonly db: ObjectDb,
  ) {
    this.id = driver.id;
  }

  put(key: string, data: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult> {
    return this.driver.put(key, data, opts);
  }

  get(key: string, range?: { start: number; end: number }): Readable {
    if (!isInlineKey(key)) return this.driver.get(key, range);
    const load = () => this.getBuffer(key, range);
    return Readable.from(
      (async function* () {
        yield await load();
      })(),
      { objectMode: false },
    );
  }

  async getBuffer(key: string, range?: { start: number; end: number }): Promise<Buffer> {
    if (!isInlineKey(key)) {
      if (this.driver.getBuffer) return this.driver.getBuffer(key, range);
      const parts: Buffer[] = [];
      for await (const c of this.driver.get(key, range)) parts.push(c as Buffer);
      return Buffer.concat(parts);
    }
    const buf = await readInline(this.db, key);
    if (!buf) throw Object.assign(new Error(`object data ${key} is gone`), { code: "ENOENT" });
    return slice(buf, range);
  }

  async delete(key: string): Promise<void> {
    if (isInlineKey(key)) await deleteInline(this.db, key);
    else await this.driver.delete(key);
  }
}
