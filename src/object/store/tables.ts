import type { Generated, Kysely } from "kysely";

/** The object tables as Kysely sees them (bigints may arrive as strings; names as Buffers on MySQL). */
export interface ObjectTables {
  object_account: { account: string; created_at: string; put_timestamp: string; meta: string };
  object_container: {
    id: Generated<number>;
    account: string;
    name: string;
    object_count: number | string;
    bytes_used: number | string;
    created_at: string;
    put_timestamp: string;
    meta: string;
  };
  object_object: {
    container_id: number;
    name: string;
    size: number | string;
    etag: string;
    content_type: string;
    timestamp: string;
    meta: string;
    delete_at: number | string | null;
    data_key: string;
  };
  object_garbage: { data_key: string; since: string };
  object_inline: { data_key: string; data: Uint8Array };
  object_sync: { container_id: number; point: number | string; owner: string; lease_until: number | string };
  object_tombstone: { container_id: number; name: string; timestamp: string };
  object_sync_change: {
    id: Generated<number>;
    container_id: number;
    name: string;
    timestamp: string;
    deleted: number;
  };
}

/** A handle typed to the object tables. */
export type ObjectDb = Kysely<ObjectTables>;

/** A stored name as a string (MySQL returns varbinary columns as Buffers). */
export const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v));

/** A stored bigint as a number. */
export const num = (v: unknown): number => Number(v ?? 0);

/** Metadata kept as a JSON object of lower-cased header suffix → value. */
export type Meta = Record<string, string>;

/** Parse a stored metadata column. */
export function parseMeta(v: string): Map<string, string> {
  const o = JSON.parse(v || "{}") as Meta;
  return new Map(Object.entries(o));
}

/** Serialize metadata for storage. */
export const storeMeta = (m: Map<string, string>): string => JSON.stringify(Object.fromEntries(m));
