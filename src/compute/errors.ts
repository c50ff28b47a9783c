import { novaError, type FormattedError } from "../shared/http/error-formats.js";
import { ApiError } from "../shared/http/errors.js";

/** Nova's error body: {"itemNotFound": {"code": 404, "message": "..."}}. */
export function formatComputeError(err: ApiError): FormattedError {
  return novaError(err);
}

export const badRequest = (m: string) => new ApiError(400, m);
export const forbidden = (m: string) => new ApiError(403, m);
export const notFound = (m: string) => new ApiError(404, m);
export const conflict = (m: string) => new ApiError(409, m);
