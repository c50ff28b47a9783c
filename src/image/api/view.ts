import type { Image } from "../store/images.js";
import type { Member } from "../store/members.js";
import type { Task } from "../store/tasks.js";
import { setKey } from "../store/tables.js";
import { isoTime } from "./common.js";

/** Properties Glance keeps for itself and never shows. */
const HIDDEN = new Set(["os_glance_stage_host", "os_glance_hash_op_host"]);

/** Glance's JSON view of an image: custom properties at top level, then the core attributes and links. */
export function renderImage(img: Image): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(img.properties)) if (!HIDDEN.has(k)) setKey(view, k, v ?? "");
  const core: Record<string, unknown> = {
    name: img.name,
    disk_format: img.disk_format,
    container_format: img.container_format,
    visibility: img.visibility,
    size: img.size,
    virtual_size: img.virtual_size,
    status: img.status,
    checksum: img.checksum,
    protected: img.protected,
    min_ram: img.min_ram,
    min_disk: img.min_disk,
    owner: img.owner,
    os_hidden: img.os_hidden,
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    id: img.id,
    created_at: isoTime(img.created_at),
    updated_at: isoTime(img.updated_at),
    tags: [...img.tags],
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: "/v2/schemas/image",
  };
  for (const [k, v] of Object.entries(core)) setKey(view, k, v);
  // Multiple stores are enabled (GET /v2/info/stores answers), so Glance names the stores holding the data.
  if (img.store && img.location) view.stores = img.store;
  return view;
}

/** Glance's JSON view of an image member. */
export function renderMember(m: Member): Record<string, unknown> {
  return {
    member_id: m.member_id,
    image_id: m.image_id,
    status: m.status,
    created_at: isoTime(m.created_at),
    updated_at: isoTime(m.updated_at),
    schema: "/v2/schemas/member",
  };
}

/** Python's datetime.isoformat() as Glance's JSON serializer prints task times: no zone, microseconds. */
function pyTime(stored: string | null): string | null {
  if (stored === null) return null;
  const ms = Date.parse(stored);
  if (Number.isNaN(ms)) return stored;
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000");
}

/** An import task as GET /v2/images/{id}/tasks shows it. */
export function renderTask(t: Task): Record<string, unknown> {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    owner: t.owner,
    expires_at: pyTime(t.expires_at),
    created_at: pyTime(t.created_at),
    updated_at: pyTime(t.updated_at),
    deleted_at: null,
    deleted: false,
    image_id: t.image_id,
    request_id: t.request_id,
    user_id: t.user_id,
    input: t.input,
    result: t.result,
    message: t.message,
  };
}
