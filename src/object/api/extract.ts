// Extract archive (Swift's bulk middleware): PUT ?extract-archive=tar|tar.gz|tar.bz2 on an account or a container streams a
// tar archive in, each regular file becoming an object (<container>/<object> from its path), containers made as
// needed; the answer is Swift's bulk summary. Bounded: files per archive, new containers, failures kept.
import { spawn } from "node:child_process";
import { createGunzip } from "node:zlib";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { SwiftError, swiftText } from "../errors.js";
import { getContainer, putContainer } from "../store/containers.js";
import { checkAccountQuota } from "./account-quotas.js";
import { bulkBody, bulkFormat } from "./bulk.js";
import { guessContentType } from "./content-type.js";
import { writeObject } from "./write.js";
import { checkQuota } from "./quotas.js";
import { accountDomainOf, type Ctx } from "./request.js";
import { quotePath } from "./slo.js";
import { tarFiles, TarError } from "./tar.js";

/** Swift's defaults (reported in /info). */
export const BULK_UPLOAD_INFO = { max_containers_per_extraction: 10000, max_failed_extractions: 1000 };
/** The most files one archive may hold (bounds the work of a request). */
const MAX_FILES = 100_000;

/** A bzip2 stream decompressed by the `bzip2` program (Node has no bzip2); a corrupt stream fails as a TarError. */
function bunzip2(body: AsyncIterable<Uint8Array>): Readable {
  const child = spawn("bzip2", ["-dc"], { stdio: ["pipe", "pipe", "ignore"] });
  const out = new PassThrough();
  const fail = (why: string) => out.destroy(new TarError(why));
  child.on("error", (e) => fail(`bzip2 could not run (${e.message})`));
  pipeline(Readable.from(body), child.stdin).catch(() => child.kill());
  child.stdout.pipe(out, { end: false });
  child.on("close", (code) => (code === 0 ? out.end() : fail("not a valid bzip2 stream")));
  // A reader that stops early (too many files, an error) must not leave bzip2 running.
  out.on("close", () => child.exitCode === null && child.kill());
  return out;
}

/** Extract an archive into `account` under `base` ("" or "container[/prefix]"); the caller may write the account. */
export async function extractArchive(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  kind: string,
  base: string,
): Promise<Reply> {
  if (!["tar", "tar.gz", "tgz", "tar.bz2", "tbz", "tbz2"].includes(kind))
    throw swiftText(400, "Unsupported archive format");
  const format = bulkFormat(ctx);
  const body = (ctx.body as AsyncIterable<Uint8Array> | undefined) ?? Readable.from([]);
  const src =
    kind === "tar" ? body : kind.includes("bz") ? bunzip2(body) : Readable.from(body).pipe(createGunzip());
  let created = 0;
  let files = 0;
  let responseBody = "";
  const errors: Array<[string, string]> = [];
  const madeContainers = new Set<string>();
  try {
    for await (const f of tarFiles(src)) {
      if (++files > MAX_FILES) throw new TarError(`more than ${MAX_FILES} files`);
      const rel = f.path.replace(/^(\.\/)+/, "").replace(/^\/+/, "");
      const full = (base ? `${base.replace(/\/+$/, "")}/${rel}` : rel).replace(/^\/+/, "");
      const slash = full.indexOf("/");
      const container = slash < 0 ? full : full.slice(0, slash);
      const object = slash < 0 ? "" : full.slice(slash + 1);
      const fail = (status: string) => errors.push([quotePath(`/${full}`), status]);
      if (!container || !object || container === "." || container === "..") {
        fail("400 Bad Request");
      } else if (
        Buffer.byteLength(container) > core.limits.max_container_name_length ||
        Buffer.byteLength(object) > core.limits.max_object_name_length
      ) {
        fail("400 Bad Request");
      } else if (f.size > core.limits.max_file_size) {
        fail("413 Request Entity Too Large");
      } else {
        try {
          let c = await getContainer(core, account, container);
          if (!c) {
            if (madeContainers.size >= BULK_UPLOAD_INFO.max_containers_per_extraction)
              throw swiftText(400, "More than max_containers_per_extraction containers");
            await putContainer(core, account, container, (m) => m, accountDomainOf(ctx, account));
            madeContainers.add(container);
            c = await getContainer(core, account, container);
          }
          if (!c) throw new SwiftError(404);
          checkQuota(c, f.size);
          await checkAccountQuota(core, account, f.size);
          await writeObject(core, c, object, {
            source: f.data,
            length: f.size,
            contentType: guessContentType(object),
            meta: new Map(),
            deleteAt: null,
          });
          created++;
        } catch (e) {
          if (!(e instanceof SwiftError)) throw e;
          fail(
            `${e.status} ${e.status === 413 ? "Request Entity Too Large" : e.status === 404 ? "Not Found" : "Bad Request"}`,
          );
        }
      }
      if (errors.length >= BULK_UPLOAD_INFO.max_failed_extractions) break;
    }
  } catch (e) {
    if (!(e instanceof TarError) && !(e instanceof Error && "code" in e && String(e.code).startsWith("Z_")))
      throw e;
    responseBody = `Invalid Tar File: ${e.message}`;
  }
  let status = "201 Created";
  if (errors.length || responseBody) status = "400 Bad Request";
  else if (!created) {
    status = "400 Bad Request";
    responseBody = "Invalid Tar File: No Valid Files";
  }
  const summary = {
    "Number Files Created": created,
    "Response Body": responseBody,
    "Response Status": status,
  };
  const out = bulkBody(format, summary, errors, "extract");
  return new Reply(200, out.body, { "content-type": out.contentType });
}
