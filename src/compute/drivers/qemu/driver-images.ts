// Where the qemu driver gets images: the image service's v2 API (record and streamed bytes), called with a service
// token. The driver verifies every download against os_hash_value in its image cache.
import { Readable } from "node:stream";
import type { ReadableStream } from "node:stream/web";
import type { TokenSource } from "../../../shared/client/service-client.js";
import type { DiskFormat } from "../types.js";
import type { ImageFetcher } from "./image-cache.js";
import { ImageUnusable } from "./errors.js";

/** An image's record as the driver needs it (Glance v2 fields; properties are the record's extra keys). */
export interface ImageRecord {
  id: string;
  name?: string;
  status?: string;
  diskFormat: DiskFormat;
  osHashAlgo?: string;
  osHashValue?: string | null;
  sizeBytes?: number | null;
  properties: Record<string, unknown>;
}

/** The image service, as the driver uses it. */
export interface ImageSource {
  describe(id: string): Promise<ImageRecord>;
  fetch: ImageFetcher;
}

/** An ImageSource over HTTP: `imageUrl` gives the image API base (e.g. http://127.0.0.1:8080/image). */
export function httpImageSource(imageUrl: () => string | Promise<string>, token: TokenSource): ImageSource {
  const base = async (id: string) =>
    `${(await imageUrl()).replace(/\/+$/, "")}/v2/images/${encodeURIComponent(id)}`;
  const get = async (url: string, signal?: AbortSignal): Promise<Response> => {
    let tok = await token();
    let res = await fetch(url, { headers: { "x-auth-token": tok }, signal });
    if (res.status === 401 && token.reset) {
      token.reset(tok);
      tok = await token();
      res = await fetch(url, { headers: { "x-auth-token": tok }, signal });
    }
    return res;
  };
  return {
    async describe(id) {
      const res = await get(await base(id));
      if (res.status !== 200) throw new ImageUnusable(id, `the image service answered ${res.status}`);
      const body = (await res.json()) as Record<string, unknown>;
      return {
        id,
        name: typeof body.name === "string" ? body.name : undefined,
        status: typeof body.status === "string" ? body.status : undefined,
        diskFormat: (body.disk_format ?? "raw") as DiskFormat,
        osHashAlgo: typeof body.os_hash_algo === "string" ? body.os_hash_algo : undefined,
        osHashValue: typeof body.os_hash_value === "string" ? body.os_hash_value : null,
        sizeBytes: typeof body.size === "number" ? body.size : null,
        properties: body,
      };
    },
    async fetch(id, signal) {
      const res = await get(`${await base(id)}/file`, signal);
      if (res.status !== 200 || !res.body) throw new ImageUnusable(id, `download answered ${res.status}`);
      return Readable.fromWeb(res.body as ReadableStream<Uint8Array>);
    },
  };
}
