// Reading images for volumes made from one, through the image service's public API as a service client (the
// cloud admin's token, so that any project's image the caller could name is readable).
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { TokenSource } from "../shared/client/service-client.js";
import type { ImageInfo, ImageReader } from "./core.js";

/** An image reader over the in-process listener (`app`), below /image. */
export function injectImageReader(app: () => FastifyInstance, token: TokenSource): ImageReader {
  const get = async (url: string) => {
    const tok = await token();
    return app().inject({ method: "GET", url: `/image/v2/images/${url}`, headers: { "x-auth-token": tok } });
  };
  return {
    async describe(id): Promise<ImageInfo | null> {
      if (!/^[0-9a-fA-F-]{1,64}$/.test(id)) return null;
      const r = await get(encodeURIComponent(id));
      if (r.statusCode !== 200) return null;
      const b = JSON.parse(r.payload) as Record<string, unknown>;
      const props: Record<string, unknown> = {};
      const skip = new Set([
        "id",
        "file",
        "schema",
        "self",
        "locations",
        "direct_url",
        "tags",
        "owner",
        "visibility",
        "protected",
        "os_hidden",
        "created_at",
        "updated_at",
        "status",
      ]);
      for (const [k, v] of Object.entries(b))
        if (!skip.has(k) && v !== null) props[k === "name" ? "image_name" : k] = v;
      return {
        id: String(b.id),
        status: String(b.status),
        diskFormat: typeof b.disk_format === "string" ? b.disk_format : "raw",
        sizeBytes: typeof b.size === "number" ? b.size : null,
        minDisk: typeof b.min_disk === "number" ? b.min_disk : 0,
        properties: props,
      };
    },
    async open(id): Promise<Readable> {
      // Streamed (payloadAsStream): the image's bytes flow through with backpressure, never whole in memory.
      const tok = await token();
      const r = await app().inject({
        method: "GET",
        url: `/image/v2/images/${encodeURIComponent(id)}/file`,
        headers: { "x-auth-token": tok },
        payloadAsStream: true,
      });
      const body = r.stream();
      if (r.statusCode !== 200) {
        body.destroy();
        throw new Error(`image download answered ${r.statusCode}`);
      }
      return body;
    },
  };
}
