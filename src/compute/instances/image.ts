// The image a server boots, as the scheduler keeps it in the request spec: read from the image API's answer.
import type { RequestSpec } from "./store.js";

/** Glance's base image attributes: everything else on an image is a property. */
export const CORE_IMAGE_KEYS = new Set(
  (
    "id name status visibility protected checksum os_hash_algo os_hash_value owner size min_ram min_disk " +
    "disk_format container_format created_at updated_at tags self file schema virtual_size os_hidden direct_url " +
    "locations stores"
  ).split(" "),
);

/** The request-spec view of a Glance image body (string custom properties kept as image properties). */
export function imageSpec(imageRef: string, img: Record<string, unknown>): RequestSpec["image"] {
  // fromEntries keeps a property named "__proto__" as a plain key (assignment would drop it).
  const properties: Record<string, string> = Object.fromEntries(
    Object.entries(img).filter(
      (e): e is [string, string] => !CORE_IMAGE_KEYS.has(e[0]) && typeof e[1] === "string",
    ),
  );
  return {
    id: imageRef,
    name: typeof img.name === "string" ? img.name : undefined,
    min_ram: Number(img.min_ram ?? 0),
    min_disk: Number(img.min_disk ?? 0),
    disk_format: typeof img.disk_format === "string" ? img.disk_format : undefined,
    size: Number(img.size ?? 0),
    ...(typeof img.virtual_size === "number" ? { virtual_size: img.virtual_size } : {}),
    properties,
  };
}
