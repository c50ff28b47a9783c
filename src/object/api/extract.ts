// Extract archive (Swift's bulk middleware): PUT ?extract-archive=tar|tar.gz|tar.bz2 on an account, a container or a
// path in one streams a tar archive in, each regular file becoming an object (<container>/<object> from the upload
// path and its own), containers made as needed. As Swift's handle_extract_iter the answer is 200 at once with a
// streamed body: fillers while the files are stored (bulk.ts's streamBulk), then the bulk summary (Number Files
// Created, Response Status, Response Body, Errors), in which the problems met during the work are reported. Each
// object gets the request's X-Object-Meta-* and X-Delete-At/-After and its file's pax xattrs; as bulk sits before
// auth in Swift's pipeline, each container and object is authorized on its own (a container ACL's writer extracts).
import { spawn } from "node:child_process";
import { constants as zlibConstants, createGunzip } from "node:zlib";
import { PassThrough, pipeline, Readable } from "node:stream";
import type { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { SwiftError, swiftError, swiftText } from "../errors.js";
import { getContainer, putContainer } from "../store/containers.js";
import { hasAccess } from "./account-acl.js";
import { checkAccountQuota } from "./account-quotas.js";
import { authorizeContainer } from "./acl.js";
import { streamBulk } from "./bulk.js";
import { guessContentType } from "./content-type.js";
import { deleteAtOf } from "./expiry.js";
import { ClientGone, statusLine } from "./keepalive.js";
import { checkMeta, metaChanges } from "./metadata.js";
import { writeObject } from "./write.js";
import { archiveCurrent, withVersion } from "./versioning.js";
import { checkQuota } from "./quotas.js";
import { accountDomainOf, header, type Ctx } from "./request.js";
import { tarMembers, TarError, type TarMember } from "./tar.js";

/** Swift's defaults (reported in /info). */
export const BULK_UPLOAD_INFO = { max_containers_per_extraction: 10000, max_failed_extractions: 1000 };
/** The most files one archive may hold (bounds the work of a request; Swift has no such bound). */
const MAX_FILES = 100_000;
/** The archive kinds Swift takes (the parameter lower-cased, without leading or trailing dots). */
const KINDS: ReadonlyMap<string, "" | "gz" | "bz2"> = new Map([
  ["tar", ""],
  ["tar.gz", "gz"],
  ["tar.bz2", "bz2"],
]);

/** Tests may hold or fail an extraction before it stores each file (named by its destination path). */
export const extractTestHooks: { beforeFile?: (path: string) => Promise<void> } = {};

/**
 * The request body's chunks; the request failing means the client has gone. Stopped early (the archive's end
 * marker, a broken archive, too many failures), it reads the rest of the body and drops it, as Node does with a
 * body no one reads: a client sends its whole body before it reads the answer. The request itself is never
 * destroyed, which would close the connection the answer goes out on.
 */
async function* fromClient(body: unknown): AsyncGenerator<Buffer> {
  if (body === undefined) return;
  const it =
    body instanceof Readable
      ? body.iterator({ destroyOnReturn: false })
      : (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  let read = false;
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) {
        read = true;
        return;
      }
      yield Buffer.from(r.value as Uint8Array);
    }
  } catch {
    read = true;
    throw new ClientGone();
  } finally {
    try {
      while (!read && !(await it.next()).done);
    } catch {
      // The client has gone meanwhile.
    }
    await it.return?.();
  }
}

/** A gzip stream decompressed, as tarfile reads one: "not a gzip file" without the magic, a truncated stream read
 *  as far as it goes; zlib's own errors (corrupt data) are the caller's to name. */
function gunzip(input: AsyncGenerator<Buffer>): Readable {
  async function* checked(): AsyncGenerator<Buffer> {
    let head: Buffer | undefined = Buffer.alloc(0);
    const check = (h: Buffer) => {
      if (h.length < 2 || h[0] !== 0x1f || h[1] !== 0x8b) throw new TarError("not a gzip file");
      if (h[2] !== 8) throw new TarError("unsupported compression method");
    };
    for await (const c of input) {
      if (!head) {
        yield c;
        continue;
      }
      head = Buffer.concat([head, c]);
      if (head.length < 3) continue;
      check(head);
      yield head;
      head = undefined;
    }
    if (head) check(head);
  }
  const z = createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
  // The input's failures (not gzip, the client gone) reach the reader as they are.
  pipeline(Readable.from(checked()), z, () => undefined);
  return z;
}

/** Whether an error is zlib's (corrupt compressed data). */
const isZlibError = (e: unknown): boolean =>
  e instanceof Error && "code" in e && String(e.code).startsWith("Z_");

/** A bzip2 stream decompressed by the `bzip2` program (Node has no bzip2), killed once the reader stops; a corrupt
 *  stream is "invalid compressed data", an empty one an empty archive. */
function bunzip2(input: AsyncGenerator<Buffer>): Readable {
  const child = spawn("bzip2", ["-dc"], { stdio: ["pipe", "pipe", "ignore"] });
  const out = new PassThrough();
  let fed = false;
  let inputError: unknown;
  child.on("error", (e) => out.destroy(new Error(`bzip2 could not run (${e.message})`)));
  async function* watched(): AsyncGenerator<Buffer> {
    try {
      for await (const c of input) {
        fed ||= c.length > 0;
        yield c;
      }
    } catch (e) {
      inputError = e;
      throw e;
    }
  }
  pipeline(Readable.from(watched()), child.stdin, () => undefined);
  child.stdout.pipe(out, { end: false });
  child.on("close", (code) => {
    if (inputError) out.destroy(inputError as Error);
    else if (code === 0 || !fed) out.end();
    else out.destroy(new TarError("invalid compressed data"));
  });
  out.on("close", () => child.exitCode === null && child.kill());
  return out;
}

/** Swift's quoting of a failed file's path (wsgi_quote of its bytes): all but letters, digits, "_.-~/" escaped. */
function quoteBytes(b: Buffer): string {
  let s = "";
  for (const c of b)
    s += /[A-Za-z0-9_.~/-]/.test(String.fromCharCode(c))
      ? String.fromCharCode(c)
      : `%${c.toString(16).toUpperCase().padStart(2, "0")}`;
  return s;
}

/** Whether a path is one Swift takes (check_utf8: valid UTF-8, no NUL) and Stratus names (no U+FFFD, which marks
 *  its hidden versions containers and is refused in request paths too). */
function validName(b: Buffer): boolean {
  const s = b.toString("utf8");
  return Buffer.from(s, "utf8").equals(b) && !s.includes("\0") && !s.includes("\uFFFD");
}

/**
 * Extract an archive into `account` under `base` ("" or "container[/path]"). An unknown kind is 400 at once, and a
 * caller without a token who may not write the account 401; everything else is reported in the streamed summary
 * (containers and objects the caller may not write are failures there, as Swift's subrequests).
 */
export async function extractArchive(
  ctx: Ctx,
  core: ObjectCore,
  account: string,
  kind: string,
  base: string,
): Promise<Reply> {
  const compression = KINDS.get(kind.toLowerCase().replace(/^\.+|\.+$/g, ""));
  if (compression === undefined) throw swiftText(400, "Unsupported archive format");
  const writer = await hasAccess(ctx, core, account, "write");
  if (!writer && !ctx.auth) throw swiftError(401);
  const job: Job = {
    ctx,
    core,
    account,
    writer,
    meta: metaChanges(ctx, "object", false),
    prefix: Buffer.from(base.replace(/\/+$/, ""), "utf8"),
    created: 0,
    errors: [],
    accessed: new Set(),
    containersCreated: 0,
    failedStatus: statusLine(400),
  };
  const summary = (status: string, body: string) => ({
    "Response Status": status,
    "Response Body": body,
    "Number Files Created": job.created,
  });
  const { yieldFrequency } = core.cfg.object.bulk;
  return streamBulk(ctx, core.log, yieldFrequency, "extract", summary, job.errors, async (beat) => {
    if (
      header(ctx, "content-length") === undefined &&
      !/chunked/i.test(header(ctx, "transfer-encoding") ?? "")
    )
      throw swiftError(411);
    const input = fromClient(ctx.body);
    const members = tarMembers(
      compression === "" ? input : compression === "gz" ? gunzip(input) : bunzip2(input),
    );
    let files = 0;
    try {
      // As handle_extract_iter: a filler (when due) before each read of the next member, the read that finds the
      // end included; the 1,000th failure stops the work there.
      for (;;) {
        beat();
        const next = await members.next();
        if (next.done || job.errors.length >= BULK_UPLOAD_INFO.max_failed_extractions) break;
        if (!next.value.file) continue;
        if (++files > MAX_FILES) throw new TarError(`more than ${MAX_FILES} files`);
        await extractFile(job, next.value);
      }
    } catch (e) {
      if (e instanceof TarError) throw swiftText(400, `Invalid Tar File: ${e.message}`);
      if (isZlibError(e)) throw swiftText(400, "Invalid Tar File: invalid compressed data");
      throw e;
    } finally {
      await members.return(undefined);
    }
    if (job.errors.length) return [job.failedStatus, ""];
    if (!job.created) return [statusLine(400), "Invalid Tar File: No Valid Files"];
    return [statusLine(201), ""];
  });
}

/** An extraction's state (Swift's resp_dict, failed_files, containers_accessed and failed_response_type). */
interface Job {
  ctx: Ctx;
  core: ObjectCore;
  account: string;
  /** Whether the caller may write the account (else it needs the containers' ACLs, as Swift's subrequests). */
  writer: boolean;
  /** The request's X-Object-Meta-* headers, which every object gets (its file's pax xattrs over them). */
  meta: Map<string, string>;
  /** The upload path's bytes, without trailing slashes. */
  prefix: Buffer;
  created: number;
  errors: Array<[string, string]>;
  /** Containers looked up (and made if missing), once per extraction. */
  accessed: Set<string>;
  containersCreated: number;
  /** The summary's status when files failed: 400 Bad Request, 502 Bad Gateway once one failed on the server. */
  failedStatus: string;
}

/** Store one regular file of the archive, or count its failure. */
async function extractFile(job: Job, m: TarMember): Promise<void> {
  const { core, account } = job;
  let path = m.rawPath;
  if (path[0] === 0x2e && path[1] === 0x2f) path = path.subarray(2);
  let lead = 0;
  while (path[lead] === 0x2f) lead++;
  path = path.subarray(lead);
  if (job.prefix.length) path = Buffer.concat([job.prefix, Buffer.from("/"), path]);
  const slash = path.indexOf(0x2f);
  if (slash < 0) return; // a file at the top of the account: ignored, as Swift
  const maxPath = core.limits.max_container_name_length + core.limits.max_object_name_length + 2;
  const quoted = (b: Buffer) => quoteBytes(b.subarray(0, maxPath));
  if (!validName(path)) {
    job.errors.push([quoted(path), statusLine(412)]);
    return;
  }
  if (m.size > core.limits.max_file_size) {
    job.errors.push([quoted(path), statusLine(413)]);
    return;
  }
  const container = path.subarray(0, slash).toString("utf8");
  const object = path.subarray(slash + 1).toString("utf8");
  await extractTestHooks.beforeFile?.(path.toString("utf8"));
  let containerFailure: [string, string] | undefined;
  if (!job.accessed.has(container)) {
    try {
      if (await makeContainer(job, container)) {
        const max = BULK_UPLOAD_INFO.max_containers_per_extraction;
        if (++job.containersCreated > max)
          throw swiftText(400, `More than ${max} containers to create from tar.`);
      }
    } catch (e) {
      if (!(e instanceof ContainerRefused)) throw e;
      // No token: the end of the work, as Swift's 401. Otherwise the object may still be stored (a container ACL
      // may let the caller write it): reported with it if not.
      if (e.status === 401) throw swiftError(401);
      containerFailure = [quoted(Buffer.from(`/v1/${account}/${container}`)), statusLine(e.status)];
    }
  }
  const status = await storeFile(job, container, object, m);
  job.accessed.add(container);
  if (status === undefined) {
    job.created++;
    return;
  }
  if (containerFailure) job.errors.push(containerFailure);
  if (status >= 500) job.failedStatus = statusLine(502);
  job.errors.push([quoted(path), statusLine(status)]);
  if (status === 401) throw swiftError(401);
}

/** A container that could not be made (Swift's CreateContainerError), with the status its PUT would answer. */
class ContainerRefused extends Error {
  constructor(readonly status: number) {
    super(`container refused: ${status}`);
  }
}

/**
 * Make the container unless it exists (Swift's create_container: a HEAD, then a PUT on 404): whether it was made.
 * A caller who may not write the account must be let read it by its ACL (else 403, 401 without a token), and is
 * refused making one (403).
 */
async function makeContainer(job: Job, name: string): Promise<boolean> {
  const { ctx, core, account } = job;
  if (!job.writer)
    try {
      await authorizeContainer(ctx, core, account, name, "listing");
    } catch (e) {
      if (e instanceof SwiftError) throw new ContainerRefused(e.status);
      throw e;
    }
  if (await getContainer(core, account, name)) return false;
  if (!job.writer) throw new ContainerRefused(ctx.auth ? 403 : 401);
  // Names a container PUT refuses (too long; "." and "..", which no request path can address here).
  if (Buffer.byteLength(name) > core.limits.max_container_name_length || name === "." || name === "..")
    throw new ContainerRefused(400);
  try {
    return await putContainer(core, account, name, (m) => m, accountDomainOf(ctx, account));
  } catch (e) {
    core.log.error({ err: e }, "extract archive: making a container failed");
    throw new ContainerRefused(500);
  }
}

/**
 * Store one file as an object PUT would: undefined when stored, else the status it failed with (403 or 401 when the
 * caller may not write the container, 404 without it, 400 for a name too long or empty or a bad header, 413 past a
 * quota, 500 for an unexpected failure, logged). A failure of the archive itself (a TarError, the client gone) is
 * thrown: it ends the extraction.
 */
async function storeFile(
  job: Job,
  container: string,
  object: string,
  m: TarMember,
): Promise<number | undefined> {
  const { ctx, core, account } = job;
  let sourceError: unknown;
  async function* source(): AsyncGenerator<Buffer> {
    try {
      yield* m.data;
    } catch (e) {
      sourceError = e;
      throw e;
    }
  }
  try {
    await authorizeContainer(ctx, core, account, container, "write");
    const c = await getContainer(core, account, container);
    if (!c) throw swiftError(404);
    if (!object || Buffer.byteLength(object) > core.limits.max_object_name_length) throw swiftError(400);
    checkQuota(c, m.size);
    await checkAccountQuota(core, account, m.size);
    const { meta, contentType } = fileHeaders(job, object, m.pax);
    // The replaced object is kept as a version first, as a PUT through Swift's versioning middlewares.
    const version = await archiveCurrent(core, account, c, object);
    await writeObject(core, c, object, {
      source: source(),
      length: m.size,
      contentType,
      meta: withVersion(meta, version),
      deleteAt: deleteAtOf(ctx) ?? null,
    });
    return undefined;
  } catch (e) {
    if (sourceError !== undefined) throw sourceError;
    if (e instanceof SwiftError) return e.status;
    core.log.error({ err: e }, "extract archive: storing a file failed");
    return 500;
  }
}

/** A header name as HTTP has it (a token) and a value it can carry (no control characters but tab). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Swift's pax_key_to_swift_header: the object header a pax record sets (the user.mime_type xattr Content-Type,
 *  user.meta.<K> X-Object-Meta-<K>, as GNU tar (SCHILY) or libarchive stores them), or undefined. */
export function paxHeader(key: string): string | undefined {
  for (const vendor of ["SCHILY", "LIBARCHIVE"]) {
    const xattr = `${vendor}.xattr.user.`;
    if (!key.startsWith(xattr)) continue;
    const name = key.slice(xattr.length);
    if (name === "mime_type") return "Content-Type";
    if (name.startsWith("meta.")) return `X-Object-Meta-${name.slice("meta.".length)}`;
  }
  return undefined;
}

/**
 * A file's object headers: the request's X-Object-Meta-* with its pax xattrs over them, and its Content-Type (its
 * mime_type xattr, else guessed from its name); 400 where an object PUT with those headers would be refused (the
 * metadata limits, a Content-Type too long) or could not be sent (a name that is no token, a control character).
 */
function fileHeaders(
  job: Job,
  object: string,
  pax: Map<string, Buffer>,
): { meta: Map<string, string>; contentType: string } {
  const meta = new Map(job.meta);
  let contentType = "";
  for (const [key, raw] of pax) {
    const name = paxHeader(key);
    if (name === undefined) continue;
    // The value's bytes as Node holds a request header's (latin1): stored and answered as sent.
    const value = raw.toString("latin1").trim();
    if (!TOKEN.test(name) || !VALUE.test(value)) throw swiftError(400);
    // As a request's metadata names: lower case, underscores read as hyphens.
    if (name === "Content-Type") contentType = value;
    else meta.set(name.toLowerCase().replace(/_/g, "-"), value);
  }
  checkMeta(meta, "object", job.core.limits);
  if (Buffer.byteLength(contentType) > 256) throw swiftText(400, "Content-Type too long");
  return { meta, contentType: contentType || guessContentType(object) };
}
