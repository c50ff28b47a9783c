// Swift's staticweb middleware: a container with `X-Container-Meta-Web-Index`, `-Web-Listings`, `-Web-Error` or
// `-Web-Listings-CSS` serves as a website to requests without a token (or with `X-Web-Mode: true`): directories
// answer their index object or an HTML listing, missing objects the `<status><web-error>` page. Everything else,
// and every request with a token, takes the normal path; the container's read ACL still decides who may read.
import type { ObjectCore } from "../core.js";
import { swiftError } from "../errors.js";
import { getContainer } from "../store/containers.js";
import { getObject, scanListing } from "../store/objects.js";
import { authorizeContainer } from "./acl.js";
import { baseHeaders } from "./common.js";
import { listRows } from "./listing.js";
import { Reply } from "../../shared/http/reply.js";
import { header, param, type Ctx, type SwiftPath } from "./request.js";

const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);
/** Rows an HTML listing shows (Swift pages its listings; one page here). */
const LISTING_ROWS = 10_000;

const html = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** Whether the request is a website request: GET/HEAD without a token, or asking for web mode. */
function webRequest(ctx: Ctx): boolean {
  if (ctx.method !== "GET" && ctx.method !== "HEAD") return false;
  if (param(ctx, "temp_url_sig") !== undefined) return false;
  if (TRUE.has((header(ctx, "x-web-mode") ?? "").toLowerCase())) return true;
  return header(ctx, "x-auth-token") === undefined && header(ctx, "x-storage-token") === undefined;
}

/** A context reading another URL of the same service (for serving the index or error object). */
const retarget = (ctx: Ctx, url: string): Ctx => Object.create(ctx, { url: { value: url } }) as Ctx;

/**
 * Answer a website request to a container or object of a web-enabled container, or return undefined for the
 * normal path. `read` is the normal object read (used for index and error pages).
 */
export async function staticWeb(
  ctx: Ctx,
  core: ObjectCore,
  path: SwiftPath,
  read: (ctx: Ctx, core: ObjectCore) => Promise<unknown>,
): Promise<unknown> {
  if (path.container === undefined || !webRequest(ctx)) return undefined;
  const c = await getContainer(core, path.account, path.container);
  if (!c) return undefined;
  const index = c.meta.get("x-container-meta-web-index") || undefined;
  const listings = TRUE.has((c.meta.get("x-container-meta-web-listings") ?? "").toLowerCase());
  const error = c.meta.get("x-container-meta-web-error") || undefined;
  const css = c.meta.get("x-container-meta-web-listings-css") || undefined;
  if (!index && !listings) return undefined;
  const rawPath = ctx.url.split("?")[0];
  // Redirects name the path as the client sent it (with the service's prefix).
  const clientPath = new URL(ctx.serviceUrl).pathname.replace(/\/$/, "") + rawPath;
  const base = `/v1/${rawPath.split("/")[2]}/${rawPath.split("/")[3]}`;
  const objectUrl = (name: string) => `${base}/${name.split("/").map(encodeURIComponent).join("/")}`;
  const exists = async (name: string) => {
    const o = await getObject(core, c.id, name);
    return !!o && (o.deleteAt === null || o.deleteAt > Date.now() / 1000);
  };
  const errorPage = async (status: number) => {
    if (error && (await exists(`${status}${error}`))) {
      const r = (await read(retarget(ctx, objectUrl(`${status}${error}`)), core)) as Reply;
      return new Reply(status, r.body, r.headers);
    }
    throw swiftError(status);
  };
  const directory = async (prefix: string) => {
    await authorizeContainer(ctx, core, path.account, path.container!, "read");
    if (index && (await exists(prefix + index))) return read(retarget(ctx, objectUrl(prefix + index)), core);
    if (!listings) return errorPage(404);
    await authorizeContainer(ctx, core, path.account, path.container!, "listing");
    return listing(core, c.id, rawPath, prefix, css, errorPage);
  };
  if (path.object === undefined) {
    // A directory is addressed with its trailing slash; without it, the browser is sent there.
    if (!rawPath.endsWith("/"))
      return new Reply(301, undefined, { location: `${clientPath}/`, "content-length": "0" });
    return directory("");
  }
  if (await exists(path.object)) return undefined;
  if (path.object.endsWith("/")) return directory(path.object);
  await authorizeContainer(ctx, core, path.account, path.container, "read");
  const under = await scanListing(core, c.id, { from: `${path.object}/`, limit: 1, reverse: false });
  if (under[0]?.name.startsWith(`${path.object}/`))
    return new Reply(301, undefined, { location: `${clientPath}/`, "content-length": "0" });
  return errorPage(404);
}

/** An HTML listing of a pseudo-directory, as staticweb renders one (subdirectories first, then objects). */
async function listing(
  core: ObjectCore,
  containerId: number,
  rawPath: string,
  prefix: string,
  css: string | undefined,
  errorPage: (status: number) => Promise<unknown>,
): Promise<unknown> {
  const rows = await listRows(
    async (o) => (await scanListing(core, containerId, o)).map((x) => ({ name: x.name, item: x })),
    { prefix, delimiter: "/", limit: LISTING_ROWS, reverse: false, format: "text/plain" },
  );
  if (prefix && rows.length === 0) return errorPage(404);
  const title = `Listing of ${html(decodeURIComponent(rawPath))}`;
  const style = css
    ? `  <link rel="stylesheet" type="text/css" href="${html(css)}" />\n`
    : "  <style>td { padding: 0 1em; }</style>\n";
  const rel = (name: string) => html(name.slice(prefix.length).split("/").map(encodeURIComponent).join("/"));
  const cells = rows.map((r) =>
    r.kind === "subdir"
      ? `   <tr class="item subdir"><td class="colname"><a href="${rel(r.name)}">${html(r.name.slice(prefix.length))}</a></td><td class="colsize">&nbsp;</td><td class="coldate">&nbsp;</td></tr>`
      : `   <tr class="item"><td class="colname"><a href="${rel(r.name)}">${html(r.name.slice(prefix.length))}</a></td><td class="colsize">${r.item.size}</td><td class="coldate">${html(r.item.timestamp)}</td></tr>`,
  );
  const parent = prefix
    ? `   <tr id="parent" class="item"><td class="colname"><a href="../">../</a></td><td class="colsize">&nbsp;</td><td class="coldate">&nbsp;</td></tr>\n`
    : "";
  const body =
    `<!DOCTYPE html>\n<html>\n <head>\n  <title>${title}</title>\n${style} </head>\n <body>\n` +
    `  <h1 id="title">${title}</h1>\n  <table id="listing">\n` +
    `   <tr id="heading"><th class="colname">Name</th><th class="colsize">Size</th><th class="coldate">Date</th></tr>\n` +
    parent +
    cells.join("\n") +
    `\n  </table>\n </body>\n</html>\n`;
  return new Reply(200, body, baseHeaders("text/html; charset=UTF-8"));
}
