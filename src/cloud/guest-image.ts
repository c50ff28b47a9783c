// `stratus up` with the qemu driver registers the built-in guest image, as devstack registers CirrOS: built once
// (cached, with progress), then uploaded as public images through the image API with the service token: the kernel
// (aki) and initramfs (ari), the whole disk booting from its own boot loader, and the same disk set up for direct
// kernel boot (kernel_id/ramdisk_id). Registration is idempotent: images of this version are found by name.
import { createReadStream } from "node:fs";
import type { TokenSource } from "../shared/client/service-client.js";
import { ensureGuestImage, type GuestImage } from "../compute/guest-image.js";

/** The ids of the registered guest images. */
export interface RegisteredGuestImage {
  version: string;
  /** Whole-disk image (SeaBIOS + extlinux). */
  diskId: string;
  /** The same disk with kernel_id/ramdisk_id: direct kernel boot. */
  directId: string;
  kernelId: string;
  ramdiskId: string;
  user: string;
}

/**
 * The names the guest images are registered under. They stay the same across guest image versions (so commands and
 * scripts can name them); the version is the `stratus_guest_version` property, and images of an older version are
 * renamed to `retiredName` and hidden when a newer one registers.
 */
export const GUEST_IMAGE_NAMES = {
  disk: "stratus-guest",
  direct: "stratus-guest-direct",
  kernel: "stratus-guest-kernel",
  ramdisk: "stratus-guest-ramdisk",
} as const;

/** The name an older version's image takes when a newer version registers (still bootable by id, hidden). */
export const retiredName = (name: string, version: string) => `${name}-${version}`;

async function call(
  base: string,
  token: TokenSource,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<any> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      "x-auth-token": await token(),
      accept: "application/json",
      ...(body !== undefined ? { "content-type": contentType } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (res.status >= 300)
    throw new Error(`image service: ${method} ${path} answered ${res.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : undefined;
}

async function ensureImage(
  base: string,
  token: TokenSource,
  name: string,
  file: string,
  fields: Record<string, unknown> & { stratus_guest_version: string },
  progress: (m: string) => void,
): Promise<string> {
  const version = fields.stratus_guest_version;
  const found = (await call(base, token, "GET", `/v2/images?name=${encodeURIComponent(name)}`)) as {
    images: Array<{ id: string; status: string; stratus_guest_version?: unknown }>;
  };
  const mine = found.images.filter((i) => i.stratus_guest_version === version);
  const active = mine.find((i) => i.status === "active");
  if (active) return active.id;
  for (const stale of mine) await call(base, token, "DELETE", `/v2/images/${stale.id}`).catch(() => {});
  // Older versions keep serving the servers booted from them, under their versioned name and hidden from lists.
  for (const old of found.images.filter((i) => i.stratus_guest_version !== version)) {
    const v = typeof old.stratus_guest_version === "string" ? old.stratus_guest_version : "old";
    progress(`retiring image ${name} of version ${v}`);
    await call(
      base,
      token,
      "PATCH",
      `/v2/images/${old.id}`,
      [
        { op: "replace", path: "/name", value: retiredName(name, v) },
        { op: "replace", path: "/os_hidden", value: true },
      ],
      "application/openstack-images-v2.1-json-patch",
    );
  }
  progress(`registering image ${name}`);
  const img = (await call(base, token, "POST", "/v2/images", {
    name,
    visibility: "public",
    container_format: "bare",
    ...fields,
  })) as { id: string };
  const res = await fetch(`${base}/v2/images/${img.id}/file`, {
    method: "PUT",
    headers: { "x-auth-token": await token(), "content-type": "application/octet-stream" },
    body: createReadStream(file) as unknown as RequestInit["body"],
    duplex: "half",
  } as RequestInit);
  if (res.status >= 300) throw new Error(`image service: upload of ${name} answered ${res.status}`);
  return img.id;
}

/** Build (once) and register the guest image in the image service at `imageUrl` (…/image). */
export async function registerGuestImage(opts: {
  imageUrl: string;
  token: TokenSource;
  onProgress?: (msg: string) => void;
  build?: () => Promise<GuestImage>;
}): Promise<RegisteredGuestImage> {
  const progress = opts.onProgress ?? (() => {});
  const gi = await (
    opts.build ?? (() => ensureGuestImage({ onProgress: (l) => progress(`guest image: ${l}`) }))
  )();
  const v = gi.manifest.version;
  const n = GUEST_IMAGE_NAMES;
  const base = opts.imageUrl.replace(/\/+$/, "");
  const common = { stratus_guest_version: v };
  const kernelId = await ensureImage(
    base,
    opts.token,
    n.kernel,
    gi.kernel,
    { disk_format: "aki", container_format: "aki", ...common },
    progress,
  );
  const ramdiskId = await ensureImage(
    base,
    opts.token,
    n.ramdisk,
    gi.ramdisk,
    { disk_format: "ari", container_format: "ari", ...common },
    progress,
  );
  const diskId = await ensureImage(
    base,
    opts.token,
    n.disk,
    gi.disk,
    { disk_format: "qcow2", min_disk: 1, hw_rng_model: "virtio", ...common },
    progress,
  );
  const directId = await ensureImage(
    base,
    opts.token,
    n.direct,
    gi.disk,
    {
      disk_format: "qcow2",
      min_disk: 1,
      kernel_id: kernelId,
      ramdisk_id: ramdiskId,
      os_command_line: gi.manifest.cmdline,
      ...common,
    },
    progress,
  );
  return { version: v, diskId, directId, kernelId, ramdiskId, user: gi.manifest.user };
}
