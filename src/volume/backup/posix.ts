// The posix backup store: objects as files under <dir>/<project>/<container>/<object> (Cinder's posix driver, for
// clouds without object storage). Names are checked so that no part leaves its directory.
import { mkdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { ChunkStore } from "./types.js";

const SAFE = /^[A-Za-z0-9_.-]{1,255}$/;

function part(s: string, what: string): string {
  if (!SAFE.test(s) || s === "." || s === "..") throw new Error(`unsafe backup ${what} name: ${s}`);
  return s;
}

/** Objects as files under a directory. */
export class PosixChunkStore implements ChunkStore {
  constructor(private readonly dir: string) {}

  private path(account: string, container: string, object: string): string {
    const parts = object.split("/").map((p) => part(p, "object"));
    return join(this.dir, part(account, "account"), part(container, "container"), ...parts);
  }

  async put(account: string, container: string, object: string, data: Buffer): Promise<void> {
    const p = this.path(account, container, object);
    await mkdir(dirname(p), { recursive: true, mode: 0o700 });
    const t = `${p}.tmp-${process.pid}`;
    await writeFile(t, data, { mode: 0o600 });
    await rename(t, p);
  }

  async get(account: string, container: string, object: string): Promise<Buffer | null> {
    try {
      return await readFile(this.path(account, container, object));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  async delete(account: string, container: string, object: string): Promise<void> {
    const p = this.path(account, container, object);
    await rm(p, { force: true });
    // Directories the object's name made go when empty (the container's stays).
    const top = join(this.dir, account, container);
    for (let d = dirname(p); d.startsWith(top + "/"); d = dirname(d)) {
      const removed = await rmdir(d).then(
        () => true,
        () => false,
      );
      if (!removed) break;
    }
  }
}
