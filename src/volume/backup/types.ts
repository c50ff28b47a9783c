// The backup driver interface (Cinder's backup drivers): where backups of volumes live. The volume agent reads a
// volume through its volume backend and hands the bytes to the backup driver, and the reverse for a restore.
import type { Readable } from "node:stream";

/** A backup as its driver addresses it. */
export interface BackupRef {
  id: string;
  /** The owning project (the Swift account is AUTH_<projectId>). */
  projectId: string;
  volumeId: string;
  container: string;
}

/** The required backup driver interface. */
export interface BackupDriver {
  readonly name: string;
  /** Store a volume's raw bytes; with a parent, store only what changed since it. Returns the objects written. */
  backup(ref: BackupRef, data: Readable, parent: BackupRef | null): Promise<{ objectCount: number }>;
  /** The backup's raw volume bytes. */
  restore(ref: BackupRef): Promise<Readable>;
  /** Remove the backup's own objects (idempotent: a missing backup is not an error). */
  delete(ref: BackupRef): Promise<void>;
}

/** Named blobs in containers of an account: what a chunked backup driver stores through. */
export interface ChunkStore {
  /** Store an object (creating its container when needed). */
  put(account: string, container: string, object: string, data: Buffer): Promise<void>;
  /** An object's bytes, or null when it does not exist. */
  get(account: string, container: string, object: string): Promise<Buffer | null>;
  /** Remove an object (idempotent). */
  delete(account: string, container: string, object: string): Promise<void>;
}
