import type { Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { aggregatePolicies, aggregateRoutes } from "./aggregates.js";
import { availabilityZonePolicies, availabilityZoneRoutes } from "./availability-zones.js";
import { externalEventPolicies, externalEventRoutes } from "./external-events.js";
import { hypervisorPolicies, hypervisorRoutes } from "./hypervisors.js";
import { instanceActionPolicies, instanceActionRoutes } from "./instance-actions.js";
import { migrationPolicies, migrationRoutes } from "./migrations.js";
import { servicePolicies, serviceRoutes } from "./services.js";
import { usagePolicies, usageRoutes } from "./usage.js";

/** Operator APIs: os-services, os-hypervisors, os-aggregates, os-availability-zone, os-migrations, usage, instance actions, external events. */
export function adminRoutes(core: ComputeCore): Route[] {
  return [
    ...serviceRoutes(core),
    ...hypervisorRoutes(core),
    ...aggregateRoutes(core),
    ...availabilityZoneRoutes(core),
    ...migrationRoutes(core),
    ...usageRoutes(core),
    ...instanceActionRoutes(core),
    ...externalEventRoutes(core),
  ];
}

/** Policy defaults of the operator APIs. */
export const adminPolicies: RuleDefault[] = [
  ...servicePolicies,
  ...hypervisorPolicies,
  ...aggregatePolicies,
  ...availabilityZonePolicies,
  ...migrationPolicies,
  ...usagePolicies,
  ...instanceActionPolicies,
  ...externalEventPolicies,
];
