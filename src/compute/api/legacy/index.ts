import type { Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";

/** Nova's older and smaller APIs: image proxy, hosts, extensions, server password, diagnostics, audit log. */
export function legacyRoutes(_core: ComputeCore): Route[] {
  return [];
}

/** Policy defaults of those APIs. */
export const legacyPolicies: RuleDefault[] = [];
