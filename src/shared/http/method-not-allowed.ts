// 405 Method Not Allowed for a service's known paths: which methods each path does not answer, so the HTTP layer
// can mount a route that says so (with an Allow header) instead of fastify's 404.
import type { Route } from "./route.js";

/** The methods a path may be refused for (COPY and OPTIONS only in services that use them: Swift). */
const BASE = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const OPTIONAL = ["COPY", "OPTIONS"];

/** One path and the methods to answer 405 for, with the Allow header's value. */
export interface RefusedMethods {
  path: string;
  methods: string[];
  allow: string;
}

const segments = (path: string) => path.split("/").map((s) => (s.startsWith(":") ? ":" : s));

/** Whether pattern `q` matches every URL pattern `p` matches (a parameter covers any one segment, `*` one or more). */
function covers(q: string[], p: string[]): boolean {
  for (let i = 0; i < q.length; i++) {
    if (i >= p.length) return false;
    if (q[i] === "*") return true;
    if (p[i] === "*") return false;
    if (q[i] !== ":" && q[i] !== p[i]) return false;
  }
  return q.length === p.length;
}

/**
 * For each path of `routes` (routes differing only in parameter names are one path), the methods none of the
 * routes answers there: not declared on the path (GET brings HEAD), and not answered by a broader route that
 * matches all of the path's URLs (a static segment wins over a parameter, so only broader ones matter).
 */
export function refusedMethods(routes: readonly Route[]): RefusedMethods[] {
  const declared = new Set(routes.flatMap((r) => ([] as string[]).concat(r.method)));
  const all = [...BASE, ...OPTIONAL.filter((m) => declared.has(m))];
  const byShape = new Map<string, { path: string; segs: string[]; methods: Set<string> }>();
  for (const r of routes) {
    const segs = segments(r.path);
    const key = segs.join("/");
    const entry = byShape.get(key) ?? { path: r.path, segs, methods: new Set<string>() };
    for (const m of ([] as string[]).concat(r.method)) entry.methods.add(m);
    if (entry.methods.has("GET")) entry.methods.add("HEAD");
    byShape.set(key, entry);
  }
  const out: RefusedMethods[] = [];
  for (const [key, p] of byShape) {
    const broader = [...byShape].filter(([k, q]) => k !== key && covers(q.segs, p.segs)).map(([, q]) => q);
    const methods = all.filter((m) => !p.methods.has(m) && !broader.some((q) => q.methods.has(m)));
    if (methods.length === 0) continue;
    out.push({ path: p.path, methods, allow: all.filter((m) => p.methods.has(m)).join(", ") });
  }
  return out;
}
