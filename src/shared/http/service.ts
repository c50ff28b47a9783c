import type { ApiError } from "./errors.js";
import type { MicroversionSpec } from "./microversion.js";
import type { Route } from "./route.js";

/** One service's HTTP face: its routes, its error format and its microversions. */
export interface ServiceApi {
  /** Short name, used in logs and metrics ("identity"). */
  name: string;
  /** Official service type, used by application-credential access rules ("identity", "compute"). */
  serviceType: string;
  /** Mount point on the shared listener ("/identity"). */
  prefix: string;
  routes: Route[];
  /** Render an error the way this service's OpenStack counterpart does. */
  formatError(
    err: ApiError,
    requestId: string,
    headers: Record<string, string | string[] | undefined>,
  ): { body: unknown; contentType?: string };
  microversions?: MicroversionSpec;
  /** Extra headers that also carry the request id (Nova's x-compute-request-id). */
  requestIdHeaders?: string[];
  /** How the extra headers show the request id (Swift's X-Trans-Id has its own form); default as is. */
  formatRequestId?: (id: string) => string;
  /** The error for a body that is not JSON where JSON is expected (default 415; Keystone answers 400). */
  badMediaType?: () => ApiError;
  /**
   * Whether a URL with a trailing slash its route path lacks, that only the 405 rule would answer, is 404 instead
   * (Cinder's router has no route for `volumes/` and answers 404 whatever the method); default false: 405 as for
   * the URL without it.
   */
  trailingSlashNotFound?: boolean;
}

/** The request-id headers of an answer of `svc`: X-Openstack-Request-Id, and the service's own in its form. */
export function requestIdHeaders(svc: ServiceApi | undefined, id: string): Array<[string, string]> {
  const own = svc?.formatRequestId ? svc.formatRequestId(id) : id;
  return [
    ["x-openstack-request-id", id],
    ...(svc?.requestIdHeaders ?? []).map((h): [string, string] => [h, own]),
  ];
}
