import type { Kysely } from "kysely";
import type { ImageCore } from "../core.js";

/** The image tables as Kysely sees them (timestamps are ISO strings, booleans 0/1). */
export interface ImageTables {
  image_image: {
    id: string;
    name: string | null;
    status: string;
    visibility: string;
    protected: number;
    os_hidden: number;
    checksum: string | null;
    os_hash_algo: string | null;
    os_hash_value: string | null;
    size: number | string | null;
    virtual_size: number | string | null;
    min_disk: number;
    min_ram: number;
    disk_format: string | null;
    container_format: string | null;
    owner: string | null;
    location: string | null;
    store: string | null;
    created_at: string;
    updated_at: string;
    deleted: number;
    deleted_at: string | null;
  };
  image_property: { image_id: string; name: string; value: string | null };
  image_tag: { image_id: string; value: string };
  image_member: { image_id: string; member: string; status: string; created_at: string; updated_at: string };
  image_task: {
    id: string;
    image_id: string;
    type: string;
    status: string;
    owner: string | null;
    user_id: string | null;
    request_id: string | null;
    input: string | null;
    result: string | null;
    message: string | null;
    created_at: string;
    updated_at: string;
    expires_at: string | null;
  };
}

/** The core's database handle typed for the image tables. */
export const imageDb = (core: ImageCore): Kysely<ImageTables> => core.db as Kysely<ImageTables>;

/** A database integer (PostgreSQL returns bigint and sums as strings) as a number, or null. */
export function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** An object without a prototype: keys from clients ("__proto__" included) are plain keys. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Set a key on an object as an own enumerable property, whatever the key is. */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}
