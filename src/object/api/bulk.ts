// Bulk delete (Swift's bulk middleware): POST or DELETE on an account with ?bulk-delete and a body of
// newline-separated, URL-encoded /container/object or /container paths. As Swift's handle_delete_iter, the answer is
// 200 at once with a streamed body: a filler while the deletions run (whenever more than yield_frequency seconds have
// passed: the XML declaration first for XML, then spaces), then "\r\n\r\n" if any filler went out and the summary
// of what was deleted, not found and failed, in plain text, JSON or XML by the Accept header (an Accept matching
// none of them: 406 Not Acceptable as the summary's status). Objects are deleted delete_concurrency at a time, then
// containers likewise. Refusals found before (auth, the body's limits) keep their status; what goes wrong during
// the work is the summary's Response Status and Response Body.
// The streamed answer itself (streamBulk) serves archive extraction too (extract.ts).
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { formatObjectError, SwiftError, swiftText } from "../errors.js";
import { deleteContainer, getContainer } from "../store/containers.js";
import { removeObject } from "../store/objects.js";
import { ClientGone, KeepAlive, statusLine } from "./keepalive.js";
import { bestMatch } from "./accept.js";
import { reclaim } from "./write.js";
import { header, type Ctx } from "./request.js";
import { inFlight } from "../../shared/in-flight.js";

/** Swift's defaults, reported in /info. */
export const BULK_DELETE_INFO = { max_deletes_per_request: 10000, max_failed_deletes: 1000 };
/** The longest line accepted: a URL-encoded container and object name and their slashes. */
const MAX_LINE = 3 * (256 + 1024) + 2;

/** The non-empty lines of a body, decoded; 413 past the per-request limit, 400 for a line too long. */
async function readPaths(body: AsyncIterable<Uint8Array> | undefined): Promise<string[]> {
  const out: string[] = [];
  let rest = "";
  const take = (line: string) => {
    const l = line.trim();
    if (!l) return;
    if (l.length > MAX_LINE) throw swiftText(400, "Invalid File Name");
    out.push(l);
    if (out.length > BULK_DELETE_INFO.max_deletes_per_request)
      throw swiftText(413, `Maximum Bulk Deletes: ${BULK_DELETE_INFO.max_deletes_per_request} per request`);
  };
  if (body)
    for await (const chunk of body) {
      rest += Buffer.from(chunk).toString("utf8");
      const lines = rest.split("\n");
      rest = lines.pop() as string;
      for (const l of lines) take(l);
      if (rest.length > MAX_LINE) throw swiftText(400, "Invalid File Name");
    }
  take(rest);
  return out;
}

/** Tests may hold or fail a streamed deletion before each of its steps (named by the path it is about). */
export const deleteTestHooks: { beforeStep?: (name: string) => Promise<void> } = {};

/** What a deletion counts (Swift's resp_dict counters and failed_files). */
export interface DeleteTally {
  deleted: number;
  notFound: number;
  errors: Array<[string, string]>;
}

/**
 * Answer 200 at once and run `work` behind a KeepAlive (Swift's handle_delete_iter and handle_extract_iter): `work`
 * calls `beat` between its steps (a filler when more than `yieldFrequency` seconds have passed, the XML declaration
 * first for XML; ClientGone, stopping the work, once the client has gone) and resolves to the summary's Response
 * Status and Response Body. A SwiftError it throws is the summary's status and body instead (its text or canned
 * page), anything else 500 Internal Error with no body (logged as `what` failed). The body ends with the summary,
 * after "\r\n\r\n" when any filler went out: `summary(status, body)`'s keys (the work's counters) and `errors`.
 */
export function streamBulk(
  ctx: Ctx,
  log: { error(o: object, msg: string): void },
  yieldFrequency: number,
  what: "delete" | "extract",
  summary: (status: string, body: string) => Record<string, string | number>,
  errors: Array<[string, string]>,
  work: (beat: () => void) => Promise<[status: string, body: string]>,
): Reply {
  const type = bulkType(ctx);
  const format = formatOf(type);
  const out = new KeepAlive(yieldFrequency, format === "xml" ? XML_DECLARATION : " ");
  void (async () => {
    let status: string;
    let body = "";
    try {
      // An Accept that matches no format: the work is not started (Swift's HTTPNotAcceptable, with no body).
      [status, body] = type ? await work(() => out.beat()) : [statusLine(406), ""];
    } catch (e) {
      // The client has gone (seen between steps, or as its request failing): no one to answer.
      if (e instanceof ClientGone || out.gone) return;
      if (e instanceof SwiftError) [status, body] = [statusLine(e.status), String(formatObjectError(e).body)];
      else {
        log.error({ err: e }, `bulk ${what} failed`);
        status = statusLine(500);
      }
    }
    out.end(bulkBody(format, summary(status, body), errors, what));
  })();
  // Swift leaves its default type when nothing matched.
  return new Reply(200, out.body, {
    "content-type": type ? bulkContentType(type) : "text/html; charset=UTF-8",
  });
}

/** The first filler of an XML answer. */
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/** Answer 200 at once and run a deletion (Swift's handle_delete_iter) through streamBulk: `work` calls `beat` before
 *  each step and counts into the tally; the summary is 200 OK, or 400 Bad Request when anything failed, or 400
 *  "Invalid bulk delete." when nothing was deleted, missing or failed. */
export function streamDelete(
  ctx: Ctx,
  log: { error(o: object, msg: string): void },
  yieldFrequency: number,
  work: (tally: DeleteTally, beat: (name: string) => Promise<void>) => Promise<void>,
): Reply {
  const tally: DeleteTally = { deleted: 0, notFound: 0, errors: [] };
  const summary = (status: string, body: string) => ({
    "Number Deleted": tally.deleted,
    "Number Not Found": tally.notFound,
    "Response Body": body,
    "Response Status": status,
  });
  return streamBulk(ctx, log, yieldFrequency, "delete", summary, tally.errors, async (beat) => {
    await work(tally, async (name) => {
      await deleteTestHooks.beforeStep?.(name);
      beat();
    });
    // Nothing deleted, missing or failed (an empty list): Swift's "Invalid bulk delete.".
    if (!tally.errors.length && !tally.deleted && !tally.notFound)
      return ["400 Bad Request", "Invalid bulk delete."];
    return [tally.errors.length ? "400 Bad Request" : "200 OK", ""];
  });
}

/** A path of a bulk delete, decoded: a container, or an object in one. */
interface Target {
  raw: string;
  path: string;
  container: string;
  object?: string;
}

/** A listed path as a target, or the error it is listed with (undecodable 412, not a path 400). */
function target(raw: string): Target | string {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return "412 Precondition Failed";
  }
  // A container may carry trailing slashes ("/c/"); an object's name keeps its own.
  const m = /^\/?([^/]+)(?:\/+$|\/(.+))?$/s.exec(path);
  if (!m || path.includes("\0")) return "400 Bad Request";
  return { raw, path, container: m[1], object: m[2] };
}

/** Delete what the body lists in `account` (the caller may write it); 200 with Swift's summary, streamed. */
export async function bulkDelete(ctx: Ctx, core: ObjectCore, account: string): Promise<Reply> {
  // With an Accept it cannot answer, Swift reads no path (the summary is 406); nor when the list is not plain text.
  const incoming = header(ctx, "content-type");
  const plainList = !incoming || incoming.startsWith("text/plain");
  const paths =
    bulkType(ctx) && plainList ? await readPaths(ctx.body as AsyncIterable<Uint8Array> | undefined) : [];
  // Objects first, then containers (which the objects' deletion may have emptied), as Swift.
  const isContainer = (raw: string) => {
    let name = raw;
    try {
      name = decodeURIComponent(raw);
    } catch {
      // Undecodable: judged by its raw form (and refused below, 412).
    }
    return !/\/[^/]/.test(name.replace(/^\/+/, ""));
  };
  const passes = [paths.filter((p) => !isContainer(p)), paths.filter(isContainer)];
  const { yieldFrequency, deleteConcurrency } = core.cfg.object.bulk;
  return streamDelete(ctx, core.log, yieldFrequency, async (tally, beat) => {
    if (!plainList) throw swiftText(406, "");
    const { errors } = tally;
    // Checked before every path is taken and once at the end: reaching the limit stops the work (once the
    // deletions in flight have ended).
    const checkFailures = () => {
      if (errors.length >= BULK_DELETE_INFO.max_failed_deletes)
        throw swiftText(400, "Max delete failures exceeded");
    };
    for (const pass of passes) {
      let i = 0;
      // The next path to delete; those that are no path are listed as errors on the way.
      const next = (): Target | undefined => {
        for (;;) {
          checkFailures();
          if (i >= pass.length) return undefined;
          const raw = pass[i++];
          const t = target(raw);
          if (typeof t !== "string") return t;
          errors.push([raw, t]);
        }
      };
      await inFlight(deleteConcurrency, next, async (t) => {
        await beat(t.raw);
        if (t.object !== undefined) return deleteInto(tally, core, account, t.container, t.object);
        const r = await deleteContainer(core, account, t.container);
        if (r === "deleted") tally.deleted++;
        else if (r === "missing") tally.notFound++;
        else errors.push([t.path, "409 Conflict"]);
      });
    }
    checkFailures();
  });
}

/** Delete one object, counting it as deleted or not found. */
export async function deleteInto(
  tally: DeleteTally,
  core: ObjectCore,
  account: string,
  container: string,
  object: string,
): Promise<void> {
  const c = await getContainer(core, account, container);
  const gone = c ? await removeObject(core, c.id, object) : undefined;
  if (!gone) {
    tally.notFound++;
    return;
  }
  await reclaim(core, gone.dataKey);
  tally.deleted++;
}

/** The types a bulk answer comes in, Swift's preferred first (its bulk middleware's ACCEPTABLE_FORMATS). */
const BULK_TYPES = ["text/plain", "application/json", "application/xml", "text/xml"] as const;
/** The content type of a bulk answer. */
export type BulkType = (typeof BULK_TYPES)[number];

/**
 * A bulk answer's type by the Accept header alone, as Swift (no `?format=`): text/plain with none, null when it
 * is malformed or matches none of them.
 */
export const bulkType = (ctx: Ctx): BulkType | null => bestMatch(header(ctx, "accept"), BULK_TYPES);

/** The body format of a type (plain text for none). */
export const formatOf = (type: BulkType | null): "plain" | "json" | "xml" =>
  type === "application/json" ? "json" : type?.endsWith("/xml") ? "xml" : "plain";

/** Swift's bulk answer body (get_response_body): the summary's keys in order, then the errors, in each format. */
export function bulkBody(
  format: "plain" | "json" | "xml",
  summary: Record<string, string | number>,
  errors: Array<[string, string]>,
  rootTag: "delete" | "upload" | "extract",
): string {
  const keys = Object.keys(summary).sort();
  if (format === "json") return JSON.stringify({ ...summary, Errors: errors });
  if (format === "xml") {
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const fields = keys.map((k) => {
      const tag = k.replace(/ /g, "_").toLowerCase();
      return `<${tag}>${esc(String(summary[k]))}</${tag}>\n`;
    });
    const errs = errors.map(
      ([p, e]) => `<object><name>${esc(p)}</name><status>${esc(e)}</status></object>\n`,
    );
    return `<${rootTag}>\n${fields.join("")}<errors>\n${errs.join("")}</errors>\n</${rootTag}>\n`;
  }
  const lines = [
    ...keys.map((k) => `${k}: ${summary[k]}\n`),
    "Errors:\n",
    ...errors.map(([p, e]) => `${p}, ${e}\n`),
  ];
  return lines.join("");
}

/** The Content-Type header of a bulk answer of a type. */
export const bulkContentType = (type: BulkType): string => `${type}; charset=utf-8`;
