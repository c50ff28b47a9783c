// The fake backup store: objects in memory (tests), with injectable failures.
import type { ChunkStore } from "./types.js";

/** Objects in a map keyed by account, container and object. */
export class MemoryChunkStore implements ChunkStore {
  readonly objects = new Map<string, Buffer>();
  /** Fail the next put (tests). */
  failNextPut = false;

  private key = (a: string, c: string, o: string): string => `${a}\u0000${c}\u0000${o}`;

  async put(account: string, container: string, object: string, data: Buffer): Promise<void> {
    if (this.failNextPut) {
      this.failNextPut = false;
      throw new Error("fake backup store: put failed (injected)");
    }
    this.objects.set(this.key(account, container, object), Buffer.from(data));
  }

  async get(account: string, container: string, object: string): Promise<Buffer | null> {
    return this.objects.get(this.key(account, container, object)) ?? null;
  }

  async delete(account: string, container: string, object: string): Promise<void> {
    this.objects.delete(this.key(account, container, object));
  }
}
