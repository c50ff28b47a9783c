// Serves the built dashboard (dist/dashboard, made by Vite during `npm start`/`npm test`) at "/": hashed assets
// cached for a year, index.html revalidated each time, precompressed brotli/gzip copies chosen by Accept-Encoding,
// index.html for the app's own routes, and a page saying how to build when there is no build.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** Where the build is: <repo>/dist/dashboard (this file runs as <repo>/dist/src/dashboard/assets.js). */
export const DASHBOARD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "dashboard");

/** The app's client-side routes: the server answers them with index.html. */
export const APP_ROUTES = ["/", "/login", "/project", "/project/*", "/admin", "/admin/*"];

/** Content types by file extension (anything else is refused). */
const TYPES = new Map([
  [".js", "text/javascript; charset=utf-8"],
  [".css", "text/css; charset=utf-8"],
  [".html", "text/html; charset=utf-8"],
  [".svg", "image/svg+xml"],
  [".png", "image/png"],
  [".jpg", "image/jpeg"],
  [".woff2", "font/woff2"],
  [".woff", "font/woff"],
  [".json", "application/json"],
  [".ico", "image/x-icon"],
]);

/** The app's Content-Security-Policy: its own scripts only (PatternFly sets inline styles), calls to this origin. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** An asset's name: one path segment of safe characters with a known extension (no traversal possible). */
const ASSET_RE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}\.([a-z0-9]{1,6})$/;

/** The encodings a client accepts, from Accept-Encoding (q=0 excludes). */
export function acceptedEncodings(header: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    if (name && !(q && Number(q.slice(2)) === 0)) out.add(name);
  }
  return out;
}

/** One file and its precompressed copies, read once. */
interface Cached {
  body: Buffer;
  br?: Buffer;
  gz?: Buffer;
}

/** Options of mountDashboard. */
export interface DashboardOptions {
  /** The build directory (default DASHBOARD_DIR). */
  dir?: string;
  /** The page answered at "/" when there is no build. */
  missing(req: FastifyRequest): string;
  /** Rewrites index.html per request (e.g. Horizon-compatible login fields); default unchanged. */
  index?(html: string, req: FastifyRequest, rep: FastifyReply): Promise<string> | string;
}

/** Mount the dashboard's routes on the shared listener. */
export function mountDashboard(app: FastifyInstance, opts: DashboardOptions): void {
  const dir = opts.dir ?? DASHBOARD_DIR;
  const cache = new Map<string, Cached>();
  const load = async (file: string): Promise<Cached | null> => {
    const hit = cache.get(file);
    if (hit) return hit;
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return null;
    }
    const opt = (p: string) => readFile(p).catch(() => undefined);
    const entry: Cached = { body, br: await opt(`${file}.br`), gz: await opt(`${file}.gz`) };
    cache.set(file, entry);
    return entry;
  };
  const send = (req: FastifyRequest, rep: FastifyReply, c: Cached, type: string, body?: Buffer) => {
    rep
      .header("content-type", type)
      .header("vary", "Accept-Encoding")
      .header("x-content-type-options", "nosniff");
    if (body) return rep.send(body);
    const enc = acceptedEncodings(req.headers["accept-encoding"]);
    if (c.br && enc.has("br")) return rep.header("content-encoding", "br").send(c.br);
    if (c.gz && enc.has("gzip")) return rep.header("content-encoding", "gzip").send(c.gz);
    return rep.send(c.body);
  };

  const index = async (req: FastifyRequest, rep: FastifyReply) => {
    const file = join(dir, "index.html");
    const c = existsSync(file) ? await load(file) : null;
    rep.header("cache-control", "no-cache");
    if (!c) return rep.header("content-type", "text/html; charset=utf-8").send(opts.missing(req));
    rep
      .header("x-frame-options", "DENY")
      .header("referrer-policy", "same-origin")
      .header("content-security-policy", CSP);
    if (!opts.index) return send(req, rep, c, "text/html; charset=utf-8");
    const html = await opts.index(c.body.toString("utf8"), req, rep);
    return send(req, rep, c, "text/html; charset=utf-8", Buffer.from(html));
  };
  for (const url of APP_ROUTES) app.get(url, index);

  app.get("/assets/:name", async (req, rep) => {
    const name = (req.params as { name: string }).name;
    const m = ASSET_RE.exec(name);
    const type = m ? TYPES.get(`.${m[1]}`) : undefined;
    const c = type ? await load(join(dir, "assets", name)) : null;
    if (!c || !type)
      return rep
        .code(404)
        .header("cache-control", "no-store")
        .header("content-type", "text/plain; charset=utf-8")
        .send("Not found\n");
    // Vite names every asset after a hash of its content: a name never changes meaning.
    rep.header("cache-control", "public, max-age=31536000, immutable");
    return send(req, rep, c, type);
  });
}
