// Reading images for volumes made from one, through the image service's public API as a service client (the
// cloud admin's token, so that any project's image the caller could name is readable): in process (`stratus up`)
// or over HTTP (`stratus agent volume`, its service user's catalog). Image data is streamed, never held whole.
import { Readable } from "node:stream";
import type { ReadableStream } from "node:stream/web";
import type { FastifyInstance } from "fastify";
import type { TokenSource } from "../shared/client/service-client.js";
import type { ImageInfo, ImageReader } from "./core.js";

/** One GET below the image API's /v2/images/: its status, its text, and its data as a stream. */
type ImageGet = (path: string) => Promise<{ status: number; text(): Promise<string>; data(): Readable }>;

/** An image reader over the in-process listener (`app`), below /image. */
export function injectImageReader(app: () => FastifyInstance, token: TokenSource): ImageReader {
  return imageReader(async (path) => {
    const tok = await token();
    // payloadAsStream: the image's bytes flow through with backpressure.
    const r = await app().inject({
      method: "GET",
      url: `/image/v2/images/${path}`,
      headers: { "x-auth-token": tok },
      payloadAsStream: true,
    });
    const body = r.stream();
    const text = async () => {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c as Buffer);
      return Buffer.concat(parts).toString("utf8");
    };
    return { status: r.statusCode, text, data: () => body };
  });
}

/** An image reader over HTTP: `imageUrl()` is the image service's endpoint (e.g. http://controller:8080/image). */
export function httpImageReader(imageUrl: () => Promise<string>, token: TokenSource): ImageReader {
  return imageReader(async (path) => {
    const r = await fetch(`${await imageUrl()}/v2/images/${path}`, {
      headers: { "x-auth-token": await token() },
    });
    return {
      status: r.status,
      text: () => r.text(),
      data: () => (r.body ? Readable.fromWeb(r.body as ReadableStream) : Readable.from([])),
    };
  });
}

function imageReader(get: ImageGet): ImageReader {
  return {
    async describe(id): Promise<ImageInfo | null> {
      if (!/^[0-9a-fA-F-]{1,64}$/.test(id)) return null;
      const r = await get(encodeURIComponent(id));
      if (r.status !== 200) return null;
      const b = JSON.parse(await r.text()) as Record<string, unknown>;
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
      const r = await get(`${encodeURIComponent(id)}/file`);
      if (r.status !== 200) {
        r.data().destroy();
        throw new Error(`image download answered ${r.status}`);
      }
      return r.data();
    },
  };
}
