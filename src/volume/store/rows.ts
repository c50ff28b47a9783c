// The volume tables' rows as stored, and the JSON-text maps some columns hold.

/** A volume row. */
export interface VolumeRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  attach_status: string;
  availability_zone: string;
  volume_type_id: string | null;
  snapshot_id: string | null;
  source_volid: string | null;
  image_id: string | null;
  bootable: number;
  /** The read-only flag: READONLY_TRUE, READONLY_FALSE once set false, 0 when never set (false). */
  readonly: number;
  multiattach: number;
  metadata: string;
  image_metadata: string;
  host: string | null;
  location: string | null;
  /** The generic volume group it belongs to (3.13), or null. */
  group_id: string | null;
  /** Cinder's migration status: migrating, success, error (null: never migrated). */
  migration_status: string | null;
  created_at: string;
  updated_at: string | null;
}

/** `readonly` of a volume set read-only (os-update_readonly_flag). */
export const READONLY_TRUE = 1;
/** `readonly` of a volume whose flag was set false: shown in its metadata as Cinder's admin metadata is. */
export const READONLY_FALSE = 2;

/** A snapshot row. */
export interface SnapshotRow {
  id: string;
  project_id: string;
  user_id: string;
  volume_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  progress: string;
  metadata: string;
  /** The group snapshot it was taken for (3.14), or null. */
  group_snapshot_id: string | null;
  created_at: string;
  updated_at: string | null;
}

/** A volume type row. */
export interface TypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  extra_specs: string;
  qos_specs_id: string | null;
  created_at: string;
}

/** A QoS specs row. */
export interface QosRow {
  id: string;
  name: string;
  consumer: string;
  specs: string;
  created_at: string;
}

/** An attachment row. */
export interface AttachmentRow {
  id: string;
  volume_id: string;
  project_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_mode: string;
  attach_status: string;
  connector: string | null;
  connection_info: string | null;
  attach_time: string | null;
  detach_time: string | null;
  created_at: string;
}

/** A service (volume agent or scheduler) row. */
export interface ServiceRow {
  host: string;
  binary: string;
  zone: string;
  disabled: number;
  disabled_reason: string | null;
  stats: string;
  created_at: string;
  updated_at: string;
}

/** A string map from a JSON text column (anything else reads as empty). */
export function parseMap(text: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!text) return out;
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v))
      for (const [k, x] of Object.entries(v)) if (typeof x === "string") out.set(k, x);
  } catch {
    // a damaged column reads as empty
  }
  return out;
}

/** A map as JSON text. */
export const mapText = (m: Map<string, string>): string => JSON.stringify(Object.fromEntries(m));

/** A map as a plain object for a response body (own properties only, so any key is safe). */
export const mapObject = (m: Map<string, string>): Record<string, string> => Object.fromEntries(m);

/** Parse JSON text or return null. */
export function parseJson(text: string | null | undefined): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
