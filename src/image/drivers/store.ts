import type { Readable } from "node:stream";

/** What a store reports after it has durably written an image's bytes. */
export interface StoredData {
  /** Driver-specific location (e.g. file:///.../images/<id>). */
  location: string;
  size: number;
  /** Hex md5 (Glance's legacy `checksum`). */
  md5: string;
  /** Hex sha512 (`os_hash_value` with `os_hash_algo` sha512). */
  sha512: string;
}

/** Where image bytes live. Small on purpose: write a stream, read a range, delete. */
export interface ImageStore {
  /** Store id as shown in /v2/info/stores ("file"). */
  readonly id: string;
  /**
   * Stream `data` into the store under `imageId`, hashing as it goes; refuse more than maxBytes (throws StoreTooLarge).
   * On any failure nothing is left behind. `onChunk` sees every byte in order (for format inspection and progress),
   * in pieces that are only valid during the call.
   */
  put(
    imageId: string,
    data: Readable,
    opts: { maxBytes?: number; onChunk?: (chunk: Buffer) => void },
  ): Promise<StoredData>;
  /** A stream of the stored bytes, optionally a [start, end] inclusive range. */
  get(location: string, range?: { start: number; end: number }): Readable;
  /** Remove the bytes; missing data is not an error. */
  delete(location: string): Promise<void>;
  /** Free space in bytes, if the store can tell. */
  freeBytes?(): Promise<number>;
}

/** Thrown by put() when the data exceeds maxBytes. */
export class StoreTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`Image exceeds the storage quota or size limit of ${limit} bytes.`);
  }
}
