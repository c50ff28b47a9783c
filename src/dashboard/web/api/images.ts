// Typed calls for Glance image editing: the full record, JSON-patch updates, and members of a shared image.
import type { Api } from "./client.js";

/** An image with every attribute and custom property Glance shows. */
export type ImageRecord = Record<string, unknown> & {
  id: string;
  name: string | null;
  visibility: string;
  protected: boolean;
  min_disk: number;
  min_ram: number;
  owner: string;
};

/** A project an image is shared with. */
export interface ImageMember {
  member_id: string;
  status: string;
  created_at: string;
}

/** One JSON-patch operation (RFC 6902) as Glance's v2.1 patch media type takes it. */
export interface PatchOp {
  op: "add" | "replace" | "remove";
  path: string;
  value?: unknown;
}

/** Keys of an image record that are Glance's own, not custom properties. */
export const IMAGE_ATTRIBUTES: ReadonlySet<string> = new Set([
  "id",
  "name",
  "status",
  "visibility",
  "protected",
  "os_hidden",
  "checksum",
  "os_hash_algo",
  "os_hash_value",
  "owner",
  "size",
  "virtual_size",
  "min_ram",
  "min_disk",
  "created_at",
  "updated_at",
  "disk_format",
  "container_format",
  "tags",
  "self",
  "file",
  "schema",
  "direct_url",
  "locations",
  "stores",
]);

/** The custom properties of an image record (string values only, as Glance keeps them). */
export function customProperties(img: ImageRecord): Array<[string, string]> {
  return Object.entries(img)
    .filter(([k, v]) => !IMAGE_ATTRIBUTES.has(k) && typeof v === "string")
    .map(([k, v]) => [k, v as string]);
}

/** The patch turning custom properties `before` into `after` (added, replaced, removed). */
export function propertyPatch(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): PatchOp[] {
  const ops: PatchOp[] = [];
  for (const [k, v] of after) {
    const old = before.get(k);
    if (old === undefined) ops.push({ op: "add", path: `/${k}`, value: v });
    else if (old !== v) ops.push({ op: "replace", path: `/${k}`, value: v });
  }
  for (const k of before.keys()) if (!after.has(k)) ops.push({ op: "remove", path: `/${k}` });
  return ops;
}

const q = (s: string) => encodeURIComponent(s);
const PATCH_TYPE = "application/openstack-images-v2.1-json-patch";

/** The image editing calls, bound to one Api. */
export function imageCalls(api: Api) {
  return {
    image: (id: string): Promise<ImageRecord> => api.get("image", `/v2/images/${q(id)}`),
    patch: (id: string, ops: PatchOp[]): Promise<ImageRecord> =>
      api.call("image", `/v2/images/${q(id)}`, {
        method: "PATCH",
        body: JSON.stringify(ops),
        contentType: PATCH_TYPE,
      }),
    members: async (id: string): Promise<ImageMember[]> =>
      (await api.get("image", `/v2/images/${q(id)}/members`)).members,
    addMember: (id: string, project: string): Promise<ImageMember> =>
      api.post("image", `/v2/images/${q(id)}/members`, { member: project }),
    removeMember: (id: string, project: string) =>
      api.del("image", `/v2/images/${q(id)}/members/${q(project)}`),
  };
}
