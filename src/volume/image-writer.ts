// Writing images for volumes uploaded to one (os-volume_upload_image), through the image service's public API as
// a service client (the cloud admin's token, which may set the image's owner to the volume's project). The data
// is streamed into the upload request, never held whole in memory.
import type { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { TokenSource } from "../shared/client/service-client.js";

/** What the image service answered to a refused request (status and its message). */
export class ImageWriteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Creates images and uploads their data through the image API. */
export interface ImageWriter {
  /** Create a queued image record with these fields (Glance's create body); answers its id. */
  create(fields: Record<string, unknown>): Promise<string>;
  /** Upload an image's data (the image becomes active). */
  upload(id: string, data: Readable): Promise<void>;
  /** Delete an image (a failed upload's); a missing one is no error. */
  remove(id: string): Promise<void>;
}

const messageOf = (payload: string): string => {
  try {
    const b = JSON.parse(payload) as { message?: unknown };
    if (typeof b.message === "string") return b.message;
  } catch {
    // not JSON
  }
  return payload.slice(0, 200);
};

/** An image writer over the in-process listener (`app`), below /image. */
export function injectImageWriter(app: () => FastifyInstance, token: TokenSource): ImageWriter {
  return {
    async create(fields) {
      const r = await app().inject({
        method: "POST",
        url: "/image/v2/images",
        headers: { "x-auth-token": await token(), "content-type": "application/json" },
        payload: JSON.stringify(fields),
      });
      if (r.statusCode !== 201) throw new ImageWriteError(r.statusCode, messageOf(r.payload));
      return String((JSON.parse(r.payload) as { id: unknown }).id);
    },
    async upload(id, data) {
      const r = await app().inject({
        method: "PUT",
        url: `/image/v2/images/${encodeURIComponent(id)}/file`,
        headers: { "x-auth-token": await token(), "content-type": "application/octet-stream" },
        payload: data,
      });
      if (r.statusCode !== 204) throw new ImageWriteError(r.statusCode, messageOf(r.payload));
    },
    async remove(id) {
      const r = await app().inject({
        method: "DELETE",
        url: `/image/v2/images/${encodeURIComponent(id)}`,
        headers: { "x-auth-token": await token() },
      });
      if (r.statusCode >= 400 && r.statusCode !== 404)
        throw new ImageWriteError(r.statusCode, messageOf(r.payload));
    },
  };
}
