import type { Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { agentRoutes } from "./agents.js";
import { extensionRoutes } from "./extensions.js";
import { ipAvailabilityRoutes } from "./ip-availability.js";
import { networkRoutes } from "./networks.js";
import { floatingIpRoutes } from "./floatingips.js";
import { portBindingRoutes } from "./port-bindings.js";
import { portForwardingRoutes } from "./port-forwardings.js";
import { portRoutes } from "./ports.js";
import { quotaRoutes } from "./quotas.js";
import { rbacRoutes } from "./rbac.js";
import { routerRoutes } from "./routers.js";
import { securityGroupRuleRoutes } from "./security-group-rules.js";
import { securityGroupRoutes } from "./security-groups.js";
import { subnetPoolRoutes } from "./subnetpools.js";
import { subnetRoutes } from "./subnets.js";
import { tagRoutes } from "./tags.js";
import { versionRoutes } from "./versions.js";

/** Every route of the Network API (Neutron v2.0). */
export function networkApiRoutes(core: NetworkCore): Route[] {
  return [
    ...versionRoutes(),
    ...extensionRoutes(),
    ...networkRoutes(core),
    ...subnetRoutes(core),
    ...subnetPoolRoutes(core),
    ...portRoutes(core),
    ...portBindingRoutes(core),
    ...routerRoutes(core),
    ...floatingIpRoutes(core),
    ...portForwardingRoutes(core),
    ...securityGroupRoutes(core),
    ...securityGroupRuleRoutes(core),
    ...rbacRoutes(core),
    ...quotaRoutes(core),
    ...agentRoutes(core),
    ...ipAvailabilityRoutes(core),
    ...tagRoutes(core),
  ];
}
