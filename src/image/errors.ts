import { STATUS_TITLES, type ApiError } from "../shared/http/errors.js";
import type { FormattedError } from "../shared/http/error-formats.js";

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);

/** Which representation a webob-style error takes for an Accept header: html (the default, as for *\/*), json or text. */
export function errorMediaType(accept: string | string[] | undefined): "html" | "json" | "text" {
  const value = (Array.isArray(accept) ? accept.join(",") : (accept ?? "")).toLowerCase();
  if (!value.trim()) return "html";
  const offers = value.split(",").map((part) => {
    const [type, ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return { type: type.trim(), q: q ? Number(q.slice(2)) : 1 };
  });
  const quality = (t: string): number =>
    Math.max(
      0,
      ...offers
        .filter(
          (o) =>
            o.type === t || o.type === "*/*" || (o.type.endsWith("/*") && t.startsWith(o.type.slice(0, -1))),
        )
        .map((o) => o.q),
    );
  const html = quality("text/html");
  const json = quality("application/json");
  if (html === 0 && json === 0) return "text";
  return json > html ? "json" : "html";
}

/** Glance's error body (webob): HTML by default, JSON {"message","code","title"} when asked for JSON, else text. */
export function formatImageError(
  err: ApiError,
  _requestId: string,
  headers: Record<string, string | string[] | undefined>,
): FormattedError {
  const title = err.extra.title ?? STATUS_TITLES[err.status] ?? "Error";
  const code = `${err.status} ${title}`;
  switch (errorMediaType(headers.accept)) {
    case "json":
      return { body: { message: err.message, code, title } };
    case "text":
      return { body: `${code}\n\n${err.message}\n\n   `, contentType: "text/plain; charset=UTF-8" };
    default:
      return {
        body: `<html>\n <head>\n  <title>${code}</title>\n </head>\n <body>\n  <h1>${code}</h1>\n  ${escapeHtml(err.message)}<br /><br />\n\n\n\n </body>\n</html>`,
        contentType: "text/html; charset=UTF-8",
      };
  }
}
