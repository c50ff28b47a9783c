// Rotating token keys kept one per file in a directory, with Keystone's rotation semantics:
// file `0` is the staged key, the highest number is the primary, everything else is a secondary.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";

/** Size in bytes of freshly generated keys. */
export const KEY_BYTES = 32;

const KEY_FILE = /^(?:0|[1-9]\d{0,8})$/;
const KEY_TEXT = /^[A-Za-z0-9_\-+/]+={0,2}$/;

/** Key files in a directory: `0` staged, highest primary (encrypts), the rest secondary (decrypt only). */
export class KeyRepository {
  #keys: readonly Buffer[] | null = null;

  /** Uses `dir` (e.g. DATA_DIR/fernet-keys) as the key store; nothing is read until init() or load(). */
  constructor(readonly dir: string) {}

  /** Creates the directory (0700) and missing staged/primary keys, then loads; safe to call repeatedly. */
  async init(): Promise<void> {
    if (await mkdir(this.dir, { recursive: true, mode: 0o700 })) await chmod(this.dir, 0o700);
    const ids = await this.#ids();
    if (!ids.includes(0)) await this.#create(0);
    if (!ids.some((id) => id > 0)) await this.#create(1);
    await this.load();
  }

  /** Promotes the staged key to primary, stages a new key 0 and drops the oldest secondaries. */
  async rotate(maxActive = 3): Promise<void> {
    if (!Number.isInteger(maxActive) || maxActive < 2)
      throw new RangeError("maxActive must be an integer >= 2");
    const ids = await this.#ids();
    if (ids.length === 0) throw new Error(`no token keys in ${this.dir}; run init() first`);
    const next = ids[0] + 1;
    if (ids.includes(0)) await rename(this.#path(0), this.#path(next));
    else await this.#create(next);
    await this.#create(0);
    const secondaries = ids.filter((id) => id > 0).reverse(); // oldest first
    for (let count = secondaries.length + 2, i = 0; count > maxActive; count--, i++) {
      await unlink(this.#path(secondaries[i]));
    }
    await this.load();
  }

  /** Re-reads every key file, replacing the cached keys. */
  async load(): Promise<void> {
    const keys: Buffer[] = [];
    for (const id of await this.#ids()) {
      const text = await readFile(this.#path(id), "utf8").catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return null; // removed by a concurrent rotation
        throw e;
      });
      if (text === null) continue;
      const key = Buffer.from(text.trim(), "base64url");
      if (!KEY_TEXT.test(text.trim()) || key.length < KEY_BYTES) {
        throw new Error(`token key file ${this.#path(id)} is not ${KEY_BYTES}+ bytes of base64`);
      }
      keys.push(key);
    }
    if (keys.length === 0) throw new Error(`no token keys in ${this.dir}; run init() first`);
    this.#keys = Object.freeze(keys);
  }

  /** The primary (encryption) key. */
  primary(): Buffer {
    return this.all()[0];
  }

  /** Every key, primary first, then secondaries newest first, staged key last; same array until load(). */
  all(): readonly Buffer[] {
    if (!this.#keys) throw new Error(`token keys in ${this.dir} not loaded; call init() or load()`);
    return this.#keys;
  }

  /** Key numbers present on disk, highest first. */
  async #ids(): Promise<number[]> {
    const names = await readdir(this.dir);
    return names
      .filter((n) => KEY_FILE.test(n))
      .map(Number)
      .sort((a, b) => b - a);
  }

  #path(id: number): string {
    return join(this.dir, String(id));
  }

  /** Writes a new random key atomically: private temp file, fsync, rename over the final name. */
  async #create(id: number): Promise<void> {
    const tmp = join(this.dir, `.${id}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(randomBytes(KEY_BYTES).toString("base64url"));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.#path(id));
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }
}
