// FormPOST (Swift's formpost): a browser POSTs a multipart/form-data form to a container (or a prefix in it) with
// redirect, max_file_size, max_file_count, expires and an HMAC signature made with a Temp-URL key; each file field
// becomes an object named <prefix><filename>. Answers as Swift: the status in text, or 303 to the redirect URL.
import { createHmac, timingSafeEqual } from "node:crypto";
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { SwiftError } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { multipartParts, MultipartError, parseDisposition } from "./multipart.js";
import { writeObject } from "./write.js";
import { checkQuota } from "./quotas.js";
import { checkAccountQuota } from "./account-quotas.js";
import { header, type Ctx, type SwiftPath } from "./request.js";
import { parseSig, signedPaths, tempUrlKeys, TEMPURL_INFO } from "./tempurl.js";
import { archiveCurrent } from "./versioning.js";

/** What /info reports. */
export const FORMPOST_INFO = { allowed_digests: TEMPURL_INFO.allowed_digests };
/** The most bytes a non-file field keeps (Swift's MAX_VALUE_LENGTH). */
const MAX_VALUE_LENGTH = 4096;

/** A refusal of the form: 400 (invalid) or 401 (unauthorized), with Swift's words. */
class FormRefused extends Error {
  constructor(
    readonly status: 400 | 401,
    message: string,
  ) {
    super(message);
  }
}

/** Python's str.title() as Swift applies it to its messages. */
const title = (s: string): string =>
  s.toLowerCase().replace(/(^|[^a-z])([a-z])/g, (_m, a, b) => a + b.toUpperCase());

/** Python's quote() (safe "/"). */
const quote = (s: string): string =>
  encodeURIComponent(s)
    .replace(/%2F/g, "/")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The boundary of a FormPOST request, or undefined when the request is no form upload. */
export function formBoundary(ctx: Ctx): string | undefined {
  if (ctx.method !== "POST") return undefined;
  const ct = parseDisposition(header(ctx, "content-type") ?? "");
  const b = ct.params.get("boundary");
  return ct.value === "multipart/form-data" && b && b.length <= 200 ? b : undefined;
}

/** Read a field's value (at most MAX_VALUE_LENGTH bytes kept, the rest drained). */
async function fieldValue(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    if (n < MAX_VALUE_LENGTH) chunks.push(c.subarray(0, MAX_VALUE_LENGTH - n));
    n += c.length;
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/[\r\n-]+$/, "");
}

/** Swift's signature check of one file upload: keys, expiry and HMAC over path, redirect and limits. */
function checkSignature(attrs: Map<string, string>, keys: string[], paths: string[]): void {
  if (!keys.length) throw new FormRefused(401, "invalid signature");
  const expires = attrs.get("expires") || "0";
  if (!/^-?\d+$/.test(expires)) throw new FormRefused(400, "expired not an integer");
  if (Number(expires) < Date.now() / 1000) throw new FormRefused(401, "form expired");
  const fields = (p: string) =>
    [
      p,
      attrs.get("redirect") ?? "",
      attrs.get("max_file_size") || "0",
      attrs.get("max_file_count") || "0",
      expires,
    ].join("\n");
  const sig = parseSig(attrs.get("signature") ?? "");
  if (!sig) throw new FormRefused(401, "invalid signature");
  const ok = keys.some((k) =>
    paths.some((p) => {
      const mac = createHmac(sig.digest, k).update(fields(p)).digest();
      return mac.length === sig.mac.length && timingSafeEqual(mac, sig.mac);
    }),
  );
  if (!ok) throw new FormRefused(401, "invalid signature");
}

/** An integer form attribute (400 with Swift's words when it is not one). */
function intAttr(attrs: Map<string, string>, name: string, what: string): number | undefined {
  const v = attrs.get(name);
  if (v === undefined || v === "") return undefined;
  if (!/^[+-]?\d{1,15}$/.test(v.trim())) throw new FormRefused(400, what);
  return Number(v.trim());
}

/** Handle a FormPOST to `path` (a container, or an object name used as a prefix). */
export async function formPost(
  ctx: Ctx,
  core: ObjectCore,
  path: SwiftPath,
  boundary: string,
): Promise<Reply> {
  const text = (status: number, body: string) =>
    new Reply(status, body, { "content-type": status === 401 ? "text/html; charset=UTF-8" : "text/plain" });
  try {
    return await upload(ctx, core, path, boundary);
  } catch (e) {
    if (e instanceof MultipartError) return text(400, `FormPost: ${e.message}`);
    if (e instanceof FormRefused)
      return text(e.status, `FormPost: ${e.status === 401 ? title(e.message) : e.message}`);
    throw e;
  }
}

/** Read the form, storing each file as it streams in; the answer as Swift words it. */
async function upload(ctx: Ctx, core: ObjectCore, path: SwiftPath, boundary: string): Promise<Reply> {
  const keys = path.container ? await tempUrlKeys(core, path.account, path.container) : [];
  const rawPath = decodeURIComponent(ctx.url.split("?")[0]);
  const attrs = new Map<string, string>();
  let status = "";
  let message = "";
  let files = 0;
  const body = ctx.body as AsyncIterable<Uint8Array> | undefined;
  for await (const part of multipartParts(body ?? (async function* () {})(), boundary)) {
    const disp = parseDisposition(part.headers.get("content-disposition") ?? "");
    const filename = disp.params.get("filename");
    if (disp.value !== "form-data" || !filename) {
      const value = await fieldValue(part.body);
      const name = disp.params.get("name");
      if (name !== undefined && attrs.size < 64) attrs.set(name.toLowerCase(), value);
      continue;
    }
    files++;
    const maxCount = intAttr(attrs, "max_file_count", "max_file_count not an integer") ?? 0;
    if (files > maxCount) {
      status = "400 Bad Request";
      message = "max file count exceeded";
      break;
    }
    status = await storeFile(ctx, core, path, rawPath, attrs, keys, filename, part.headers, part.body);
    if (!status.startsWith("2")) break;
  }
  if (!status) {
    status = "400 Bad Request";
    message = "no files to process";
  }
  const redirect = attrs.get("redirect");
  if (!redirect) {
    const out = message ? `${status}\r\nFormPost: ${title(message)}` : status;
    return new Reply(Number(status.slice(0, 3)), out, { "content-type": "text/plain" });
  }
  const location = `${redirect}${redirect.includes("?") ? "&" : "?"}status=${quote(status.split(" ")[0])}&message=${quote(message)}`;
  return new Reply(303, `<html><body><p><a href="${location}">Click to continue...</a></p></body></html>`, {
    location,
    "content-type": "text/html; charset=UTF-8",
  });
}

/** Store one file field as <prefix><filename>; its status line (a refusal of the form is thrown). */
async function storeFile(
  ctx: Ctx,
  core: ObjectCore,
  path: SwiftPath,
  rawPath: string,
  attrs: Map<string, string>,
  keys: string[],
  filename: string,
  headers: Map<string, string>,
  body: AsyncGenerator<Buffer>,
): Promise<string> {
  const maxSize = intAttr(attrs, "max_file_size", "max_file_size not an integer") ?? 0;
  const deleteAt = intAttr(attrs, "x_delete_at", "x_delete_at not an integer: Unix timestamp required.");
  const after = intAttr(
    attrs,
    "x_delete_after",
    "x_delete_after not an integer: Number of seconds required.",
  );
  checkSignature(attrs, keys, signedPaths(ctx, rawPath));
  const c = await getContainer(core, path.account, path.container as string);
  if (!c) return "404 Not Found";
  const name = `${path.object ?? ""}${filename || "filename"}`;
  if (Buffer.byteLength(name) > core.limits.max_object_name_length) return "400 Bad Request";
  let at: number | null = null;
  if (after !== undefined) at = Math.floor(Date.now() / 1000) + after;
  else if (deleteAt !== undefined) at = deleteAt;
  if (at !== null && at <= Date.now() / 1000) return "400 Bad Request";
  let exceeded = false;
  const capped = async function* () {
    let n = 0;
    for await (const chunk of body) {
      n += chunk.length;
      if (n > maxSize) {
        exceeded = true;
        throw new FormRefused(400, "max_file_size exceeded");
      }
      yield chunk;
    }
  };
  try {
    checkQuota(c, undefined);
    await checkAccountQuota(core, path.account, undefined);
    await archiveCurrent(core, path.account, c, name);
    await writeObject(core, c, name, {
      source: capped(),
      contentType: attrs.get("content-type") || headers.get("content-type") || "application/octet-stream",
      meta: new Map(
        attrs.get("content-encoding") || headers.get("content-encoding")
          ? [
              [
                "content-encoding",
                (attrs.get("content-encoding") || headers.get("content-encoding")) as string,
              ],
            ]
          : [],
      ),
      deleteAt: at,
    });
  } catch (e) {
    if (exceeded) throw new FormRefused(400, "max_file_size exceeded");
    if (e instanceof SwiftError)
      return `${e.status} ${e.status === 413 ? "Request Entity Too Large" : "Error"}`;
    throw e;
  }
  return "201 Created";
}
