import { STATUS_TITLES, type ApiError } from "../shared/http/errors.js";
import type { FormattedError } from "../shared/http/error-formats.js";

/** Glance (webob) error body as JSON: {"message", "code": "404 Not Found", "title"}. */
export function formatImageError(err: ApiError): FormattedError {
  const title = err.extra.title ?? STATUS_TITLES[err.status] ?? "Error";
  return { body: { message: err.message, code: `${err.status} ${title}`, title } };
}
