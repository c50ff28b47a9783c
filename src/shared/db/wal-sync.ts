import { closeSync, fdatasyncSync, openSync } from "node:fs";

/**
 * Group commit for a SQLite database in WAL mode at synchronous=NORMAL, whose commits append to the WAL without
 * syncing it: sync() resolves once every commit made before the call is durable. Callers of one event-loop turn
 * share one fdatasync of the WAL file, run once the turn's I/O callbacks are done (setImmediate), so that every
 * request that arrived together has committed first. Frames a checkpoint moved into the database file are durable
 * already (NORMAL syncs checkpoints).
 */
export class WalSync {
  private fd: number | null = null;
  /** The callers waiting for the next sync. */
  private waiting: Array<{ resolve(): void; reject(e: Error): void }> = [];
  /** How many fdatasyncs ran (each covers a turn's callers). */
  syncs = 0;

  constructor(private readonly walPath: string) {}

  /** Resolves once every commit made before this call is on disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  /** Close the WAL's descriptor (the database is closing). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private flush(): void {
    const batch = this.waiting;
    this.waiting = [];
    try {
      // The WAL exists once anything was committed; fdatasync on a read-only descriptor syncs the file's data.
      this.fd ??= openSync(this.walPath, "r");
      // On this thread: a thread-pool round trip costs more than the sync itself when the loop has nothing to do.
      fdatasyncSync(this.fd);
      this.syncs++;
    } catch (e) {
      for (const w of batch) w.reject(e as Error);
      return;
    }
    for (const w of batch) w.resolve();
  }
}
