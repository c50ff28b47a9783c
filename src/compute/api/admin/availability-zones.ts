// os-availability-zone: the zones of the services (compute hosts by their aggregates, the control plane in
// "internal"); the detail view, for admins, lists each zone's hosts and their services.
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { listServices, serviceIsUp, type ServiceRow } from "../../servicegroup.js";
import type { Ctx } from "../common.js";
import {
  ADMIN,
  API_BINARIES,
  INTERNAL_AZ,
  aggregateZonesByHost,
  policyRule,
  serviceUpdatedAt,
  serviceZone,
} from "./util.js";

const rule = (a: string) => `os_compute_api:os-availability-zone:${a}`;

/** Policy defaults of os-availability-zone. */
export const availabilityZonePolicies: RuleDefault[] = [
  policyRule(
    rule("list"),
    "",
    "See the availability zones and whether they are usable.",
    "GET",
    "/os-availability-zone",
  ),
  policyRule(
    rule("detail"),
    ADMIN,
    "See the availability zones with their hosts and services.",
    "GET",
    "/os-availability-zone/detail",
  ),
];

type Zoned = ServiceRow & { zone: string };

/** Services with their zones, and the available (some enabled service) and unavailable zones, sorted. */
export async function zones(core: ComputeCore) {
  const byHost = await aggregateZonesByHost(core.db);
  const services: Zoned[] = (await listServices(core.db)).map((s) => ({
    ...s,
    zone: serviceZone(s, byHost, core.cfg),
  }));
  const available = [...new Set(services.filter((s) => !s.disabled).map((s) => s.zone))].sort();
  const unavailable = [...new Set(services.filter((s) => s.disabled).map((s) => s.zone))]
    .filter((z) => !available.includes(z))
    .sort();
  return { services, available, unavailable };
}

/** /os-availability-zone and /os-availability-zone/detail. */
export function availabilityZoneRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.1/os-availability-zone",
      policy: rule("list"),
      target: () => ({}),
      handler: async () => {
        const { available, unavailable } = await zones(core);
        const entry = (zoneName: string, ok: boolean) => ({
          zoneName,
          zoneState: { available: ok },
          hosts: null,
        });
        return {
          availabilityZoneInfo: [
            ...available.filter((z) => z !== INTERNAL_AZ).map((z) => entry(z, true)),
            ...unavailable.filter((z) => z !== INTERNAL_AZ).map((z) => entry(z, false)),
          ],
        };
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/os-availability-zone/detail",
      policy: rule("detail"),
      target: () => ({}),
      handler: async (_ctx: Ctx) => {
        const { services, available, unavailable } = await zones(core);
        const info: unknown[] = [];
        for (const zone of available) {
          const hosts: Record<string, Record<string, unknown>> = {};
          for (const s of services) {
            if (s.disabled || API_BINARIES.includes(s.binary) || s.zone !== zone) continue;
            hosts[s.host] ??= {};
            hosts[s.host][s.binary] = {
              available: serviceIsUp(s, core.cfg),
              active: !s.disabled,
              updated_at: serviceUpdatedAt(s),
            };
          }
          info.push({ zoneName: zone, zoneState: { available: true }, hosts });
        }
        for (const zone of unavailable)
          info.push({ zoneName: zone, zoneState: { available: false }, hosts: null });
        return { availabilityZoneInfo: info };
      },
    }),
  ];
}
