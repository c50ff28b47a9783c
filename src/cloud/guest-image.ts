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

/** The image names of a guest image version. */
export const guestImageNames = (version: string) => ({
  disk: `stratus-guest-${version}-disk`,
  direct: `stratus-guest-${version}-direct`,
  kernel: `stratus-guest-${version}-kernel`,
  ramdisk: `stratus-guest-${version}-ramdisk`,
});

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
  fields: Record<string, unknown>,
  progress: (m: string) => void,
): Promise<string> {
  const found = (await call(base, token, "GET", `/v2/images?name=${encodeURIComponent(name)}`)) as {
    images: Array<{ id: string; status: string }>;
  };
  const active = found.images.find((i) => i.status === "active");
  if (active) return active.id;
  for (const stale of found.images)
    await call(base, token, "DELETE", `/v2/images/${stale.id}`).catch(() => {});
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
  const n = guestImageNames(v);
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
