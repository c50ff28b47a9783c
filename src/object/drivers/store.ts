import type { Readable } from "node:stream";

/** What a driver reports once an object's data is durably stored. */
export interface PutResult {
  size: number;
  /** Hex MD5 of the data (Swift's ETag). */
  md5: string;
}

/**
 * Where object data lives. Deliberately small, so that a distributed backend (an S3-compatible or RADOS cluster)
 * can implement it: data is immutable under a key the service picks (a fresh random key per write, never reused),
 * so a driver needs no overwrite, rename or locking; names, metadata, listings and counts live in the database.
 */
export interface ObjectDataStore {
  /** Driver id ("file"). */
  readonly id: string;
  /**
   * Stream `data` in under `key`, hashing it; refuse more than `maxBytes` (throws DataTooLarge). Resolves once the
   * data is durable. On any failure nothing readable is left under `key`: a reader sees all of the data or none.
   */
  put(key: string, data: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<PutResult>;
  /** The data under `key`, optionally only bytes [start, end] inclusive; the stream fails if it is missing. */
  get(key: string, range?: { start: number; end: number }): Readable;
  /** Optional, for small objects: the data (or a range of it) in one buffer; rejects if it is missing. */
  getBuffer?(key: string, range?: { start: number; end: number }): Promise<Buffer>;
  /** Remove the data under `key`; missing data is not an error. */
  delete(key: string): Promise<void>;
  /** Free space in bytes, when the driver can tell. */
  freeBytes?(): Promise<number>;
}

/** Thrown by put() when the data exceeds maxBytes. */
export class DataTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`object data exceeds ${limit} bytes`);
  }
}
