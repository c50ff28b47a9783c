import { placementError, type FormattedError } from "../shared/http/error-formats.js";
import { ApiError } from "../shared/http/errors.js";
import { bounds, negotiate, type Microversion } from "../shared/http/microversion.js";
import { placementMicroversions } from "./microversions.js";

/** Placement's machine-readable error codes (placement/errors.py), stable strings clients match on. */
export const CODES = {
  DEFAULT: "placement.undefined_code",
  INVENTORY_INUSE: "placement.inventory.inuse",
  CONCURRENT_UPDATE: "placement.concurrent_update",
  DUPLICATE_NAME: "placement.duplicate_name",
  PROVIDER_IN_USE: "placement.resource_provider.inuse",
  PROVIDER_CANNOT_DELETE_PARENT: "placement.resource_provider.cannot_delete_parent",
  RESOURCE_PROVIDER_NOT_FOUND: "placement.resource_provider.not_found",
  ILLEGAL_DUPLICATE_QUERYPARAM: "placement.query.duplicate_key",
  QUERYPARAM_BAD_VALUE: "placement.query.bad_value",
  QUERYPARAM_MISSING_VALUE: "placement.query.missing_value",
} as const;

/** An error with a Placement code. */
export const perr = (status: number, message: string, code?: string, headers?: Record<string, string>) =>
  new ApiError(status, message, { ...(code ? { code } : {}), ...(headers ? { headers } : {}) });

export const badRequest = (message: string, code?: string) => perr(400, message, code);
export const notFound = (message = "The resource could not be found.", code?: string) =>
  perr(404, message, code);
export const conflict = (message: string, code?: string) => perr(409, message, code);
export const concurrentUpdate = (message: string) => perr(409, message, CODES.CONCURRENT_UPDATE);

/** Thrown inside a transaction when a generation compare-and-swap fails. */
export class GenerationConflict extends Error {
  constructor(readonly what: "provider" | "consumer") {
    super(
      what === "provider"
        ? "Another thread concurrently updated the resource provider data. Please retry your update"
        : "Another thread concurrently updated the data. Please retry your update",
    );
  }
}

function requestedVersion(headers: Record<string, string | string[] | undefined>): string | undefined {
  const raw = headers["openstack-api-version"];
  if (raw === undefined) return undefined;
  let found: string | undefined;
  for (const item of (Array.isArray(raw) ? raw.join(",") : raw).split(",")) {
    const [svc, ver] = item.trim().split(/\s+/, 2);
    if (svc?.toLowerCase() === "placement" && ver !== undefined) found = ver;
  }
  return found;
}

/**
 * Placement's error body: {"errors": [{status, title, detail, request_id, code}]}. The code appears from 1.23 on;
 * a request whose microversion could not be negotiated gets no code, and a 406 then also names min and max.
 */
export function formatPlacementError(
  err: ApiError,
  requestId: string,
  headers: Record<string, string | string[] | undefined>,
): FormattedError {
  let version: Microversion | null = null;
  try {
    version = negotiate(placementMicroversions, headers);
  } catch {
    version = null;
  }
  let e = err;
  const asked = requestedVersion(headers);
  if (version === null && asked !== undefined) {
    if (err.status === 406) e = new ApiError(406, `Unacceptable version header: ${asked}`, err.extra);
    else if (err.status === 400) e = new ApiError(400, `invalid version string: ${asked}`, err.extra);
  }
  const out = placementError(e, requestId);
  const item = (out.body as { errors: Array<Record<string, unknown>> }).errors[0];
  if (!version || version.lt("1.23")) delete item.code;
  if (!version && e.status === 406) {
    const { min, max } = bounds(placementMicroversions);
    item.max_version = max.toString();
    item.min_version = min.toString();
  }
  return out;
}
