// GET /extensions and /extensions/{alias}: the v2.1 API still lists its former extensions (frozen when
// microversions replaced them). Stratus lists the ones whose APIs it serves, with Nova's names and aliases.
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import { notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import { policyRule } from "../admin/util.js";

const RULE = "os_compute_api:extensions";

/** Policy defaults of the extensions API. */
export const extensionPolicies: RuleDefault[] = [
  policyRule(RULE, "", "List the API extensions.", "GET", "/extensions"),
];

/** [alias, name, description] of every extension Stratus implements, sorted by alias as Nova lists them. */
const EXTENSIONS: Array<[string, string, string]> = [
  ["OS-DCF", "DiskConfig", "Disk configuration (AUTO or MANUAL partitioning) of servers and images."],
  ["OS-EXT-AZ", "ExtendedAvailabilityZone", "The availability zone of a server."],
  ["OS-EXT-IMG-SIZE", "ImageSize", "The size of images in the image listings."],
  ["OS-EXT-IPS", "ExtendedIps", "The type (fixed or floating) of server addresses."],
  ["OS-EXT-IPS-MAC", "ExtendedIpsMac", "The MAC address of server addresses."],
  ["OS-EXT-SRV-ATTR", "ExtendedServerAttributes", "Host, node and instance name of servers, for admins."],
  ["OS-EXT-STS", "ExtendedStatus", "The VM, task and power states of servers."],
  ["OS-FLV-DISABLED", "FlavorDisabled", "Whether a flavor is disabled."],
  ["OS-FLV-EXT-DATA", "FlavorExtraData", "The ephemeral disk size of flavors."],
  ["OS-SCH-HNT", "SchedulerHints", "Scheduler hints given when creating servers."],
  ["OS-SRV-USG", "ServerUsage", "When servers were launched and terminated."],
  ["os-access-ips", "AccessIPs", "Access IPv4 and IPv6 addresses of servers."],
  ["os-admin-actions", "AdminActions", "Admin server actions: os-resetState and injectNetworkInfo."],
  ["os-admin-password", "AdminPassword", "Changing a server's administrative password."],
  ["os-aggregates", "Aggregates", "Host aggregates, for admins."],
  ["os-availability-zone", "AvailabilityZone", "Availability zones: listing them and booting into one."],
  [
    "os-block-device-mapping",
    "BlockDeviceMapping",
    "Block device mappings of servers: booting from volumes.",
  ],
  ["os-config-drive", "ConfigDrive", "Config drives of servers."],
  ["os-console-auth-tokens", "ConsoleAuthTokens", "The connection behind a console token, for admins."],
  ["os-console-output", "ConsoleOutput", "A server's console log, optionally only its last lines."],
  ["os-consoles", "Consoles", "Interactive consoles of servers."],
  ["os-create-backup", "CreateBackup", "Backups of servers, with rotation."],
  ["os-deferred-delete", "DeferredDelete", "Restoring and force-deleting servers."],
  ["os-evacuate", "Evacuate", "Evacuating servers from a failed host."],
  ["os-extended-evacuate-find-host", "ExtendedEvacuateFindHost", "Evacuating without naming a target host."],
  ["os-extended-hypervisors", "ExtendedHypervisors", "More details of hypervisors."],
  ["os-extended-quotas", "ExtendedQuotas", "Deleting a project's quotas and forcing quota updates."],
  ["os-extended-rescue-with-image", "ExtendedRescueWithImage", "Rescuing a server with a given image."],
  ["os-extended-services", "ExtendedServices", "Disabling services with a reason."],
  ["os-extended-services-delete", "ExtendedServicesDelete", "Deleting services."],
  ["os-extended-status", "ExtendedStatus", "The VM, task and power states of servers."],
  ["os-flavor-access", "FlavorAccess", "Access lists of private flavors."],
  ["os-flavor-extra-specs", "FlavorExtraSpecs", "Extra specs of flavors."],
  ["os-flavor-manage", "FlavorManage", "Creating and deleting flavors."],
  ["os-flavor-rxtx", "FlavorRxtx", "The rxtx factor of flavors."],
  ["os-flavor-swap", "FlavorSwap", "The swap size of flavors."],
  ["os-floating-ip-pools", "FloatingIpPools", "Floating IP pools: the external networks (to 2.35)."],
  [
    "os-floating-ips",
    "FloatingIps",
    "Floating IPs of a project and their association with servers (to 2.35).",
  ],
  ["os-hosts", "Hosts", "Hosts and their resources, for admins."],
  ["os-hypervisor-status", "HypervisorStatus", "The status and state of hypervisors."],
  ["os-hypervisors", "Hypervisors", "Hypervisors, for admins."],
  ["os-instance-actions", "InstanceActions", "The actions and events of servers."],
  [
    "os-instance_usage_audit_log",
    "OSInstanceUsageAuditLog",
    "The usage audits of compute hosts, for admins.",
  ],
  ["os-keypairs", "Keypairs", "Key pairs."],
  ["os-lock-server", "LockServer", "Locking and unlocking servers."],
  ["os-migrate-server", "MigrateServer", "Cold and live migration of servers."],
  ["os-migrations", "Migrations", "Migrations of servers."],
  ["os-multiple-create", "MultipleCreate", "Creating several servers at once."],
  ["os-networks", "Networks", "The networks a user sees, from the network service (to 2.35)."],
  ["os-pause-server", "PauseServer", "Pausing and unpausing servers."],
  ["os-personality", "Personality", "Files injected into servers at boot."],
  ["os-preserve-ephemeral-rebuild", "PreserveEphemeralOnRebuild", "Keeping the ephemeral disk on rebuild."],
  ["os-quota-class-sets", "QuotaClasses", "Quota classes."],
  ["os-quota-sets", "Quotas", "Quotas of projects."],
  ["os-rescue", "Rescue", "Rescuing and unrescuing servers."],
  ["os-security-groups", "SecurityGroups", "Security groups and their rules, and those of servers."],
  ["os-server-diagnostics", "ServerDiagnostics", "Diagnostics of servers, for admins."],
  ["os-server-external-events", "ServerExternalEvents", "Events sent to servers by other services."],
  ["os-server-group-quotas", "ServerGroupQuotas", "Quotas of server groups."],
  ["os-server-groups", "ServerGroups", "Server groups."],
  ["os-server-password", "ServerPassword", "The encrypted password a server posted."],
  ["os-server-sort-keys", "ServerSortKeys", "Sorting server lists."],
  ["os-server-start-stop", "ServerStartStop", "Starting and stopping servers."],
  ["os-services", "Services", "Compute services."],
  ["os-shelve", "Shelve", "Shelving and unshelving servers."],
  ["os-simple-tenant-usage", "SimpleTenantUsage", "Usage of projects over a period."],
  ["os-suspend-server", "SuspendServer", "Suspending and resuming servers."],
  [
    "os-tenant-networks",
    "OSTenantNetworks",
    "The networks of a project, from the network service (to 2.35).",
  ],
  ["os-used-limits", "UsedLimits", "How much of each limited resource is in use."],
  ["os-used-limits-for-admin", "UsedLimitsForAdmin", "The limits in use of other projects, for admins."],
  ["os-user-data", "UserData", "User data given to servers at boot."],
  [
    "os-volumes",
    "Volumes",
    "Volumes and snapshots (proxies to the block storage service, to 2.35) and volume attachments of servers.",
  ],
];

const view = ([alias, name, description]: [string, string, string]) => ({
  alias,
  description,
  links: [],
  name,
  namespace: "http://docs.openstack.org/compute/ext/fake_xml",
  updated: "2014-12-03T00:00:00Z",
});

/** GET /extensions and /extensions/{alias}. */
export function extensionRoutes(): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.1/extensions",
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => {
        ctx.authorize(RULE, {});
        return { extensions: EXTENSIONS.map(view) };
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/extensions/:alias",
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => {
        ctx.authorize(RULE, {});
        const ext = EXTENSIONS.find(([alias]) => alias === ctx.params.alias);
        if (!ext) throw notFound("The resource could not be found.");
        return { extension: view(ext) };
      },
    }),
  ];
}
