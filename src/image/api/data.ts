import type { Readable } from "node:stream";
import { ApiError, badRequest, forbidden } from "../../shared/http/errors.js";
import { noContent, stream } from "../../shared/http/reply.js";
import { route, type RequestCtx, type Route } from "../../shared/http/route.js";
import type { ImageCore } from "../core.js";
import { stageData, uploadData } from "../data.js";
import type { Image } from "../store/images.js";
import { callerOf, enforceImage, loadImage, mediaType } from "./common.js";

type Ctx = RequestCtx<any, any, any>;

/** The raw request stream of an application/octet-stream body; 415 for anything else (as Glance). */
function octetStream(ctx: Ctx): { source: Readable; length: number | undefined } {
  const type = mediaType(ctx);
  const body = ctx.body as unknown;
  if (type !== "application/octet-stream" || !body || typeof (body as Readable).pipe !== "function") {
    throw new ApiError(415, `Content type ${type ?? "None"} not supported`);
  }
  const raw = ctx.headers["content-length"];
  const n = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : undefined;
  return { source: body as Readable, length: n };
}

/** A parsed Range header: [start, end] inclusive, or null for the whole image. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (header === undefined) return null;
  if (header.includes(","))
    throw badRequest(
      "Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.",
    );
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  const bad = (msg: string) => new ApiError(416, msg, { headers: { "content-range": `bytes */${size}` } });
  if (!m || (m[1] === "" && m[2] === "")) throw bad("Invalid Range header.");
  if (m[1] === "") {
    // Suffix range: the last N bytes (all of them when N is the size or more).
    const n = Number(m[2]);
    if (n === 0) throw bad("Invalid Range header.");
    const start = n < size ? size - n : 0;
    return { start, end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? null : Number(m[2]);
  if (last !== null && last < start) throw bad("Invalid Range header.");
  if (start >= size)
    throw bad(
      `Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`,
    );
  return { start, end: last === null || last >= size ? size - 1 : last };
}

/** A store read stream that has opened (so a missing file is known before the status line is sent). */
async function opened(s: Readable): Promise<Readable | null> {
  if (!("pending" in s)) return s;
  return new Promise((resolve) => {
    const onError = () => {
      s.destroy();
      resolve(null);
    };
    s.once("error", onError);
    s.once("ready", () => {
      s.off("error", onError);
      resolve(s);
    });
  });
}

async function download(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const caller = callerOf(ctx);
  const img: Image = await loadImage(ctx, core, ctx.params.image_id, caller);
  if (img.status === "deactivated" && !caller.isAdmin)
    throw forbidden("The requested image has been deactivated. Image data download is forbidden.");
  enforceImage(ctx, caller, img, "download_image");
  if (!img.location || img.size === null) return noContent();
  const store = core.stores.get(img.store ?? "") ?? core.defaultStore;
  const rangeHeader = ctx.headers["range"];
  const range = parseRange(Array.isArray(rangeHeader) ? rangeHeader[0] : rangeHeader, img.size);
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (img.checksum) headers["content-md5"] = img.checksum;
  if (img.size === 0) {
    headers["content-length"] = "0";
    return stream(200, store.get(img.location, undefined), headers);
  }
  const body = await opened(store.get(img.location, range ?? undefined));
  if (!body) return noContent();
  if (range) {
    headers["content-range"] = `bytes ${range.start}-${range.end}/${img.size}`;
    headers["content-length"] = String(range.end - range.start + 1);
    return stream(206, body, headers);
  }
  headers["content-length"] = String(img.size);
  return stream(200, body, headers);
}

async function upload(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const { source, length } = octetStream(ctx);
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  enforceImage(ctx, caller, img, "upload_image");
  await uploadData(core, img, source, length);
  return noContent();
}

async function stage(ctx: Ctx, core: ImageCore): Promise<unknown> {
  const { source, length } = octetStream(ctx);
  const caller = callerOf(ctx);
  const img = await loadImage(ctx, core, ctx.params.image_id, caller);
  // Staging has no rule of its own: Glance checks modify_image.
  enforceImage(ctx, caller, img, "modify_image");
  await stageData(core, img, source, length);
  return noContent();
}

/** Image data: upload, download and glance-direct staging. */
export function dataRoutes(core: ImageCore): Route[] {
  return [
    route({
      method: "PUT",
      path: "/v2/images/:image_id/file",
      policy: null,
      auth: "required",
      stream: true,
      handler: (ctx) => upload(ctx, core),
    }),
    route({
      method: "GET",
      path: "/v2/images/:image_id/file",
      policy: null,
      auth: "required",
      handler: (ctx) => download(ctx, core),
    }),
    route({
      method: "PUT",
      path: "/v2/images/:image_id/stage",
      policy: null,
      auth: "required",
      stream: true,
      handler: (ctx) => stage(ctx, core),
    }),
  ];
}
