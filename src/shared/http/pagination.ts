import { badRequest } from "./errors.js";

/** Limit/marker paging parameters as parsed from a query string. */
export interface Page {
  limit: number;
  marker: string | undefined;
}

/** Parse limit and marker; limit is capped at maxLimit; bad limits are a 400. */
export function parsePage(q: Record<string, unknown>, maxLimit = 1000): Page {
  const raw = q.limit;
  let limit = maxLimit;
  if (raw !== undefined && raw !== "") {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw badRequest(`Invalid limit: ${String(raw)}. limit must be a non-negative integer.`);
    limit = Math.min(n, maxLimit);
  }
  const marker = typeof q.marker === "string" && q.marker !== "" ? q.marker : undefined;
  return { limit, marker };
}

/** Scheme and host the client used, honouring X-Forwarded-Proto and X-Forwarded-Host. */
export function requestOrigin(
  headers: Record<string, string | string[] | undefined>,
  fallbackHost: string,
): string {
  const first = (v: string | string[] | undefined): string | undefined =>
    (Array.isArray(v) ? v[0] : v)?.split(",")[0]?.trim() || undefined;
  const proto = first(headers["x-forwarded-proto"]) ?? "http";
  const host = first(headers["x-forwarded-host"]) ?? first(headers["host"]) ?? fallbackHost;
  return `${proto}://${host}`;
}

/** A "next" link for the same URL with marker (and limit) replaced. */
export function nextLink(
  base: string,
  query: Record<string, unknown>,
  marker: string,
  limit?: number,
): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k === "marker" || k === "limit" || v === undefined) continue;
    for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
  }
  if (limit !== undefined) params.set("limit", String(limit));
  params.set("marker", marker);
  return `${base}?${params.toString()}`;
}
