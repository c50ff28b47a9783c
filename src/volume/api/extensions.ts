// GET /v3/{project}/extensions: the Cinder API extensions Stratus implements, as Cinder describes them.
import { route, type Route } from "../../shared/http/route.js";

const UPDATED = "2013-01-01T00:00:00+00:00";

/** [name, alias, description] of each implemented extension. */
const EXTENSIONS: [string, string, string][] = [
  ["AdminActions", "os-admin-actions", "Enable admin actions."],
  ["AvailabilityZones", "os-availability-zone", "Describe Availability Zones."],
  ["Capabilities", "capabilities", "Capabilities support."],
  ["ExtendedSnapshotAttributes", "os-extended-snapshot-attributes", "Extended SnapshotAttributes support."],
  ["Hosts", "os-hosts", "Admin-only host administration."],
  ["QoSSpecs", "qos-specs", "QoS specs support."],
  ["QuotaClasses", "os-quota-class-sets", "Quota classes management support."],
  ["Quotas", "os-quota-sets", "Quota management support."],
  ["SchedulerStats", "scheduler-stats", "Scheduler stats support."],
  ["Services", "os-services", "Services support."],
  ["TypesExtraSpecs", "os-types-extra-specs", "Type extra specs support."],
  ["TypesManage", "os-types-manage", "Types manage support."],
  ["UsedLimits", "os-used-limits", "Provide data on limited resources that are being used."],
  ["VolumeActions", "os-volume-actions", "Enable volume actions."],
  ["VolumeHostAttribute", "os-vol-host-attr", "Expose host as an attribute of a volume."],
  ["VolumeImageMetadata", "os-vol-image-meta", "Show image metadata associated with the volume."],
  [
    "VolumeMigStatusAttribute",
    "os-vol-mig-status-attr",
    "Expose migration_status as an attribute of a volume.",
  ],
  [
    "VolumeTenantAttribute",
    "os-vol-tenant-attr",
    "Expose the internal project_id as an attribute of a volume.",
  ],
  ["VolumeTypeAccess", "os-volume-type-access", "Volume type access support."],
  ["VolumeTypeEncryption", "encryption", "Encryption support for volume types."],
];

/** The extensions list route (any authenticated caller, as Cinder). */
export function extensionRoutes(): Route[] {
  return [
    route({
      method: "GET",
      path: "/v3/:project_id/extensions",
      policy: "volume_extension:extensions",
      handler: () => ({
        extensions: EXTENSIONS.map(([name, alias, description]) => ({
          name,
          alias,
          description,
          updated: UPDATED,
          links: [],
        })),
      }),
    }),
  ];
}
