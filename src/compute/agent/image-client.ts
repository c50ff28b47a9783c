// What an agent asks of the image service on a user's behalf (with the token the request carried): upload the
// bytes of a snapshot into the image the API created, and delete an image it no longer needs.
import type { SnapshotMeta, SnapshotSink } from "../drivers/types.js";

/** An image API call that did not succeed. */
export class ImageCallFailed extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    body: string,
  ) {
    super(`Image service answered ${status} to ${method} ${url}: ${body.slice(0, 300)}`);
    this.name = "ImageCallFailed";
  }
}

function headers(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return { accept: "application/json", ...(token ? { "x-auth-token": token } : {}), ...extra };
}

async function check(method: string, url: string, res: Response, ok: number[]): Promise<void> {
  if (ok.includes(res.status)) return;
  throw new ImageCallFailed(method, url, res.status, await res.text().catch(() => ""));
}

/**
 * A snapshot sink that fills the queued image `imageId` at `imageUrl` (the image API base, e.g.
 * http://host/image): it sets the disk and container formats, then streams the data to /v2/images/{id}/file.
 */
export function imageSink(imageUrl: string, imageId: string, token: string | undefined): SnapshotSink {
  const base = `${imageUrl.replace(/\/+$/, "")}/v2/images/${encodeURIComponent(imageId)}`;
  return {
    async write(meta: SnapshotMeta, data: AsyncIterable<Uint8Array>): Promise<void> {
      const patch = await fetch(base, {
        method: "PATCH",
        headers: headers(token, { "content-type": "application/openstack-images-v2.1-json-patch" }),
        body: JSON.stringify([
          { op: "replace", path: "/disk_format", value: meta.diskFormat },
          { op: "replace", path: "/container_format", value: meta.containerFormat },
        ]),
      });
      await check("PATCH", base, patch, [200]);
      // undici streams an async iterable body (duplex "half" is required for request streams).
      const put = await fetch(`${base}/file`, {
        method: "PUT",
        headers: headers(token, { "content-type": "application/octet-stream" }),
        body: data as unknown as RequestInit["body"],
        duplex: "half",
      } as RequestInit);
      await check("PUT", `${base}/file`, put, [204, 201, 200]);
    },
  };
}

/** Delete an image (gone already is fine). */
export async function deleteImage(
  imageUrl: string,
  imageId: string,
  token: string | undefined,
): Promise<void> {
  const url = `${imageUrl.replace(/\/+$/, "")}/v2/images/${encodeURIComponent(imageId)}`;
  const res = await fetch(url, { method: "DELETE", headers: headers(token) });
  await check("DELETE", url, res, [204, 404]);
}
