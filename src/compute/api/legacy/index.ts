import type { Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { auditLogPolicies, auditLogRoutes } from "./audit-log.js";
import { backupPolicies } from "./backup.js";
import { deferredDeletePolicies } from "./deferred-delete.js";
import { diagnosticsPolicies, diagnosticsRoutes } from "./diagnostics.js";
import { extensionPolicies, extensionRoutes } from "./extensions.js";
import { hostPolicies, hostRoutes } from "./hosts.js";
import { imageMetadataRoutes } from "./image-metadata.js";
import { imageRoutes } from "./images.js";
import { networkProxyPolicies, networkProxyRoutes } from "./networks.js";
import { securityGroupPolicies, securityGroupRoutes } from "./security-groups.js";
import { serverPasswordPolicies, serverPasswordRoutes } from "./server-password.js";
import { snapshotProxyPolicies, snapshotProxyRoutes } from "./snapshots.js";
import { volumeProxyPolicies, volumeProxyRoutes } from "./volumes.js";

export { backupActions } from "./backup.js";
export { deferredDeleteActions } from "./deferred-delete.js";
export { floatingIpActions } from "./floating-ips.js";
export { securityGroupActions } from "./security-groups.js";

/** Nova's older and smaller APIs: image and network proxies, hosts, extensions, server password, diagnostics,
 *  audit log. */
export function legacyRoutes(core: ComputeCore): Route[] {
  return [
    ...imageRoutes(core),
    ...imageMetadataRoutes(core),
    ...hostRoutes(core),
    ...diagnosticsRoutes(core),
    ...serverPasswordRoutes(core),
    ...auditLogRoutes(core),
    ...extensionRoutes(),
    ...networkProxyRoutes(core),
    ...securityGroupRoutes(core),
    ...volumeProxyRoutes(core),
    ...snapshotProxyRoutes(core),
  ];
}

/** Policy defaults of those APIs and of the createBackup, forceDelete and restore actions. */
export const legacyPolicies: RuleDefault[] = [
  ...hostPolicies,
  ...volumeProxyPolicies,
  ...snapshotProxyPolicies,
  ...diagnosticsPolicies,
  ...serverPasswordPolicies,
  ...auditLogPolicies,
  ...extensionPolicies,
  ...backupPolicies,
  ...deferredDeletePolicies,
  ...networkProxyPolicies,
  ...securityGroupPolicies,
];
