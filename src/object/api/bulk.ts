// Bulk delete (Swift's bulk middleware): POST or DELETE on an account with ?bulk-delete and a body of
// newline-separated, URL-encoded /container/object or /container paths; the answer says what was deleted, what was
// not found and what failed, in plain text, JSON or XML.
import { Reply } from "../../shared/http/reply.js";
import type { ObjectCore } from "../core.js";
import { swiftText } from "../errors.js";
import { deleteContainer, getContainer } from "../store/containers.js";
import { removeObject } from "../store/objects.js";
import { listFormat } from "./listing.js";
import { reclaim } from "./write.js";
import type { Ctx } from "./request.js";

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

/** Delete what the body lists in `account` (the caller may write it); 200 with Swift's summary. */
export async function bulkDelete(ctx: Ctx, core: ObjectCore, account: string): Promise<Reply> {
  const format = listFormat(ctx);
  const paths = await readPaths(ctx.body as AsyncIterable<Uint8Array> | undefined);
  let deleted = 0;
  let notFound = 0;
  const errors: Array<[string, string]> = [];
  for (const raw of paths) {
    if (errors.length >= BULK_DELETE_INFO.max_failed_deletes) break;
    let path: string;
    try {
      path = decodeURIComponent(raw);
    } catch {
      errors.push([raw, "412 Precondition Failed"]);
      continue;
    }
    const m = /^\/?([^/]+)(?:\/(.+))?$/s.exec(path);
    if (!m || path.includes("\0")) {
      errors.push([raw, "400 Bad Request"]);
      continue;
    }
    const [, container, object] = m;
    if (object === undefined) {
      const r = await deleteContainer(core, account, container);
      if (r === "deleted") deleted++;
      else if (r === "missing") notFound++;
      else errors.push([path, "409 Conflict"]);
      continue;
    }
    const c = await getContainer(core, account, container);
    const gone = c ? await removeObject(core, c.id, object) : undefined;
    if (!gone) {
      notFound++;
      continue;
    }
    await reclaim(core, gone.dataKey);
    deleted++;
  }
  const status = errors.length ? "400 Bad Request" : "200 OK";
  const summary = {
    "Number Deleted": deleted,
    "Number Not Found": notFound,
    "Response Body": "",
    "Response Status": status,
  };
  const out = bulkBody(format, summary, errors, "delete");
  return new Reply(200, out.body, { "content-type": out.contentType });
}

/** The format of a bulk answer (Swift's bulk middleware: the Accept header, or ?format=). */
export const bulkFormat = listFormat;

/** Swift's bulk answer body (get_response_body): the summary's keys in order, then the errors, in each format. */
export function bulkBody(
  format: "plain" | "json" | "xml",
  summary: Record<string, string | number>,
  errors: Array<[string, string]>,
  rootTag: "delete" | "upload" | "extract",
): { body: string; contentType: string } {
  const keys = Object.keys(summary).sort();
  if (format === "json")
    return {
      body: JSON.stringify({ ...summary, Errors: errors }),
      contentType: "application/json; charset=utf-8",
    };
  if (format === "xml") {
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const fields = keys.map((k) => {
      const tag = k.replace(/ /g, "_").toLowerCase();
      return `<${tag}>${esc(String(summary[k]))}</${tag}>\n`;
    });
    const errs = errors.map(
      ([p, e]) => `<object><name>${esc(p)}</name><status>${esc(e)}</status></object>\n`,
    );
    return {
      body: `<${rootTag}>\n${fields.join("")}<errors>\n${errs.join("")}</errors>\n</${rootTag}>\n`,
      contentType: "application/xml; charset=utf-8",
    };
  }
  const lines = [
    ...keys.map((k) => `${k}: ${summary[k]}\n`),
    "Errors:\n",
    ...errors.map(([p, e]) => `${p}, ${e}\n`),
  ];
  return { body: lines.join(""), contentType: "text/plain; charset=utf-8" };
}
