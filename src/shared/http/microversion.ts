import { ApiError } from "./errors.js";

/** A parsed microversion with comparison helpers. */
export class Microversion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}
  /** Parse "2.53"; null if malformed. */
  static parse(s: string): Microversion | null {
    const m = /^(\d+)\.(0|[1-9]\d*)$/.exec(s.trim());
    return m ? new Microversion(Number(m[1]), Number(m[2])) : null;
  }
  /** Compare: negative, zero or positive. */
  cmp(o: Microversion | string): number {
    const v = typeof o === "string" ? (Microversion.parse(o) as Microversion) : o;
    return this.major !== v.major ? this.major - v.major : this.minor - v.minor;
  }
  /** True when this version is at least v. */
  gte(v: string): boolean {
    return this.cmp(v) >= 0;
  }
  /** True when this version is below v. */
  lt(v: string): boolean {
    return this.cmp(v) < 0;
  }
  /** True when min <= this <= max (max optional). */
  within(min: string, max?: string): boolean {
    return this.gte(min) && (max === undefined || this.cmp(max) <= 0);
  }
  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

/** A service's microversion table: one entry per version, each with a one-line note. */
export interface MicroversionSpec {
  /** Service type used in OpenStack-API-Version ("compute", "placement", "volume"). */
  serviceType: string;
  /** Legacy header such as X-OpenStack-Nova-API-Version. */
  legacyHeader?: string;
  /** [version, note] in ascending order; first is the minimum, last the maximum. */
  versions: ReadonlyArray<readonly [string, string]>;
}

/** The version assumed for services that do not use microversions. */
export const NO_MICROVERSION = new Microversion(1, 0);

/** Min and max of a spec. */
export function bounds(spec: MicroversionSpec): { min: Microversion; max: Microversion } {
  return {
    min: Microversion.parse(spec.versions[0][0]) as Microversion,
    max: Microversion.parse(spec.versions[spec.versions.length - 1][0]) as Microversion,
  };
}

/** Work out the requested version from headers; throws 400 for malformed and 406 for out-of-range requests. */
export function negotiate(
  spec: MicroversionSpec,
  headers: Record<string, string | string[] | undefined>,
): Microversion {
  const { min, max } = bounds(spec);
  let requested: string | undefined;
  const modern = headers["openstack-api-version"];
  if (modern !== undefined) {
    const all = (Array.isArray(modern) ? modern.join(",") : modern).split(",");
    for (const item of all) {
      const [svc, ver] = item.trim().split(/\s+/, 2);
      if (svc?.toLowerCase() === spec.serviceType && ver !== undefined) requested = ver;
    }
  }
  if (requested === undefined && spec.legacyHeader) {
    const legacy = headers[spec.legacyHeader.toLowerCase()];
    if (legacy !== undefined) requested = Array.isArray(legacy) ? legacy[0] : legacy;
  }
  if (requested === undefined) return min;
  if (requested.trim().toLowerCase() === "latest") return max;
  const v = Microversion.parse(requested);
  if (!v)
    throw new ApiError(
      400,
      `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  if (v.cmp(min) < 0 || v.cmp(max) > 0)
    throw new ApiError(
      406,
      `Version ${requested} is not supported by the API. Minimum is ${min} and maximum is ${max}.`,
    );
  return v;
}

/** Response headers that echo the negotiated version. */
export function responseHeaders(spec: MicroversionSpec, v: Microversion): Record<string, string> {
  const h: Record<string, string> = { "openstack-api-version": `${spec.serviceType} ${v}` };
  const vary = ["OpenStack-API-Version"];
  if (spec.legacyHeader) {
    h[spec.legacyHeader.toLowerCase()] = String(v);
    vary.push(spec.legacyHeader);
  }
  h["vary"] = vary.join(", ");
  return h;
}
