import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";

/** Image quotas per project; -1 means unlimited. */
const ImageQuotas = Type.Object(
  {
    /** Images a project may own (Glance's image_count_total). */
    imageCountTotal: Type.Integer({ minimum: -1 }),
    /** Images a project may be uploading or importing at once (image_count_uploading). */
    imageCountUploading: Type.Integer({ minimum: -1 }),
    /** Bytes of image data a project may store (image_size_total). */
    imageSizeTotal: Type.Integer({ minimum: -1 }),
    /** Bytes a project may have in the import staging area (image_stage_total). */
    imageStageTotal: Type.Integer({ minimum: -1 }),
    /** Custom properties per image (image_property_quota). */
    imagePropertyQuota: Type.Integer({ minimum: -1 }),
    /** Tags per image (image_tag_quota). */
    imageTagQuota: Type.Integer({ minimum: -1 }),
    /** Members per image (image_member_quota). */
    imageMemberQuota: Type.Integer({ minimum: -1 }),
  },
  { additionalProperties: false },
);

/** Network quotas per project (Neutron's [quotas] quota_*); -1 means unlimited. */
const NetworkQuotas = Type.Object(
  {
    network: Type.Integer({ minimum: -1 }),
    subnet: Type.Integer({ minimum: -1 }),
    port: Type.Integer({ minimum: -1 }),
    subnetpool: Type.Integer({ minimum: -1 }),
    rbac_policy: Type.Integer({ minimum: -1 }),
    security_group: Type.Integer({ minimum: -1 }),
    security_group_rule: Type.Integer({ minimum: -1 }),
    router: Type.Integer({ minimum: -1 }),
    floatingip: Type.Integer({ minimum: -1 }),
  },
  { additionalProperties: false },
);

/** An inclusive [first, last] range of segmentation ids (VLAN ids or VXLAN VNIs). */
const IdRange = Type.Tuple([Type.Integer({ minimum: 1 }), Type.Integer({ minimum: 1 })]);

/** The validated configuration schema; one source for the validator and the Config type. */
export const ConfigSchema = Type.Object(
  {
    dataDir: Type.String({ minLength: 1 }),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** Base URL put in the service catalog; defaults to http://host:port. */
    publicUrl: Type.Optional(Type.String({ pattern: "^https?://" })),
    db: Type.Optional(Type.String()),
    bus: Type.String(),
    logLevel: Type.Union(
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((l) => Type.Literal(l)),
    ),
    /** Write logs to this file instead of stdout ("" = stdout). */
    logFile: Type.String(),
    region: Type.String({ minLength: 1 }),
    identity: Type.Object(
      {
        tokenExpiration: Type.Integer({ minimum: 60 }),
        maxActiveKeys: Type.Integer({ minimum: 2 }),
        /** scrypt cost: log2(N). 17 costs about the CPU time of bcrypt cost 12. */
        passwordHashCost: Type.Integer({ minimum: 10, maximum: 20 }),
        adminPassword: Type.Optional(Type.String({ minLength: 1 })),
        demoPassword: Type.Optional(Type.String({ minLength: 1 })),
        listLimit: Type.Optional(Type.Integer({ minimum: 1 })),
        /** Seconds between checks for revocations recorded by other processes (default 1; the bus is faster). */
        revocationPollInterval: Type.Optional(Type.Number({ minimum: 0.1 })),
        /** Keystone's [security_compliance] password rules; every one is off unless set. */
        securityCompliance: Type.Optional(
          Type.Object(
            {
              /** Failed password logins in a row after which the account is locked. */
              lockoutFailureAttempts: Type.Optional(Type.Integer({ minimum: 1 })),
              /** Seconds an account stays locked (default 1800). */
              lockoutDuration: Type.Optional(Type.Integer({ minimum: 1 })),
              /** How many of the latest passwords (the current one included) a user may not reuse. */
              uniqueLastPasswordCount: Type.Optional(Type.Integer({ minimum: 0 })),
              /** Days a self-service password must be kept before the user may change it again. */
              minimumPasswordAge: Type.Optional(Type.Integer({ minimum: 0 })),
              /** A regular expression new passwords must match, and its description for users. */
              passwordRegex: Type.Optional(Type.String({ minLength: 1 })),
              passwordRegexDescription: Type.Optional(Type.String()),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    policy: Type.Object(
      {
        enforceScope: Type.Boolean(),
        /** Persona rules the defaults are written in: secure RBAC (default) or upstream's legacy admin-anywhere rules. */
        defaults: Type.Union([Type.Literal("secure"), Type.Literal("legacy")]),
        /** The project whose admins are cloud admins (rule cloud_admin), besides system-scoped admins. */
        adminProject: Type.Object(
          { name: Type.String({ minLength: 1 }), domainId: Type.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    /** The Image service (Glance): size limits, per-project quotas and import methods. */
    image: Type.Object(
      {
        /** Largest image accepted, in bytes (Glance's image_size_cap, 1 TiB). */
        maxImageSize: Type.Integer({ minimum: 1 }),
        /** Where uploads go (Glance's default_store): `file` (DATA_DIR/images) or `swift` (object storage). */
        store: Type.Union([Type.Literal("file"), Type.Literal("swift")]),
        /** The swift store, single-tenant in the service project's account (Glance's swift_store_*). */
        swift: Type.Object(
          {
            /** Container of the images; their segments go to `<container>_segments`. */
            container: Type.String({ minLength: 1, maxLength: 200, pattern: "^[A-Za-z0-9_.-]+$" }),
            /** Bytes per segment (Glance's large_object_chunk_size); at most 1,000 segments per image. */
            segmentSize: Type.Integer({ minimum: 1024 * 1024, maximum: 5 * 1024 ** 3 }),
          },
          { additionalProperties: false },
        ),
        /** Per-project quotas (Glance's keystone limits); -1 = unlimited; sizes in bytes. */
        quotas: ImageQuotas,
        /** Per-project overrides of any quota, keyed by project id. */
        projectQuotas: Type.Record(Type.String({ minLength: 1 }), Type.Partial(ImageQuotas)),
        /** The web-download import method: off unless enabled, and only from these hosts ("host" or "host:port"). */
        webDownload: Type.Object(
          {
            enabled: Type.Boolean(),
            allowedHosts: Type.Array(Type.String({ minLength: 1 })),
            /** Redirects followed (each target must be an allowed host too). */
            maxRedirects: Type.Integer({ minimum: 0, maximum: 20 }),
            /** Seconds to wait for response headers and between body chunks. */
            timeout: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    /** The Object Storage service (Swift): store driver, object size limit, expiry reaper. */
    object: Type.Object(
      {
        /** Where object data lives: `file` (DATA_DIR/objects). */
        driver: Type.Union([Type.Literal("file")]),
        /** Largest object in bytes (Swift's max_file_size, 5 GiB + 2). */
        maxFileSize: Type.Integer({ minimum: 1 }),
        /** Objects up to this many bytes keep their data in the database, committed with their row (one durable
         *  commit, no file); 0 = every object's data goes to the store driver. */
        inlineMaxBytes: Type.Integer({ minimum: 0, maximum: 65536 }),
        /** Seconds between runs of the reaper that removes expired objects and unreferenced data. */
        reapInterval: Type.Number({ minimum: 0.05 }),
        /** S3 virtual-hosted-style addressing: requests to <bucket>.<s3Domain> name the bucket in the Host
         *  (s3api's storage_domain); "" = path-style only. */
        s3Domain: Type.String({ maxLength: 253, pattern: "^([A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*)?$" }),
        /** Smallest S3 multipart part but the last, in bytes (S3's 5 MiB; s3api's min_segment_size). */
        s3MinPartSize: Type.Integer({ minimum: 1 }),
        /** Whether container and account ACLs may name users and projects by name (keystoneauth's
         *  allow_names_in_acls); names match only callers whose user and project are in the default domain. */
        allowNamesInAcls: Type.Boolean(),
        /** Bulk delete and archive extraction (Swift's bulk middleware settings). */
        bulk: Type.Object(
          {
            /** Seconds between the fillers a `?bulk-delete` or `?extract-archive` answer sends while it works
             *  (yield_frequency). */
            yieldFrequency: Type.Integer({ minimum: 0, maximum: 3600 }),
            /** How many deletions a `?bulk-delete` runs at once (delete_concurrency; Swift bounds it to 1..1000). */
            deleteConcurrency: Type.Integer({ minimum: 1, maximum: 1000 }),
          },
          { additionalProperties: false },
        ),
        /** Static large objects (Swift's slo middleware settings). */
        slo: Type.Object(
          {
            /** Seconds between the spaces a `heartbeat=on` manifest PUT sends while it validates, and between the
             *  fillers of a `multipart-manifest=delete` answer (yield_frequency). */
            yieldFrequency: Type.Integer({ minimum: 0, maximum: 3600 }),
            /** Whether `multipart-manifest=delete&async=on` leaves the segments to the reaper (allow_async_delete). */
            allowAsyncDelete: Type.Boolean(),
            /** How many segment lookups a manifest PUT, and deletions a `multipart-manifest=delete`, run at once
             *  (concurrency, also Swift's default delete_concurrency for it; here 1..1000). */
            concurrency: Type.Integer({ minimum: 1, maximum: 1000 }),
          },
          { additionalProperties: false },
        ),
        /** Container sync (Swift's container_sync middleware and container-sync daemon). */
        containerSync: Type.Object(
          {
            /** Seconds between passes of the sync daemon (Swift's container-sync interval). */
            interval: Type.Number({ minimum: 0.05 }),
            /** Whether X-Container-Sync-To may be a full URL (Swift's allow_full_urls); realms always may. */
            allowFullUrls: Type.Boolean(),
            /** Hosts a full X-Container-Sync-To URL may name (Swift's allowed_sync_hosts). */
            allowedHosts: Type.Array(Type.String({ minLength: 1 })),
            /** Realms (container-sync-realms.conf): name -> keys and cluster endpoints ("<scheme>://host/v1/", or a
             *  path such as "/object-store/v1/" for this cloud's own listener). */
            realms: Type.Record(
              Type.String({ minLength: 1, pattern: "^[A-Za-z0-9_.-]+$" }),
              Type.Object(
                {
                  key: Type.String({ minLength: 1 }),
                  key2: Type.Optional(Type.String({ minLength: 1 })),
                  clusters: Type.Record(
                    Type.String({ minLength: 1, pattern: "^[A-Za-z0-9_.-]+$" }),
                    Type.String({ pattern: "^(https?://|/)" }),
                  ),
                },
                { additionalProperties: false },
              ),
            ),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    /** The Compute service: virt driver, in-process hosts, heartbeats and the scheduler. */
    compute: Type.Object(
      {
        /** Virt driver of the compute agents (`stratus up`'s in-process ones and `stratus agent compute`). */
        driver: Type.String({ minLength: 1 }),
        /** How many compute agents (hosts) `stratus up` runs in process; 0 = none (agents run apart). */
        hosts: Type.Integer({ minimum: 0, maximum: 10000 }),
        /** Host name of the first in-process agent; the others get "-2", "-3", ... (default: the machine's). */
        hostName: Type.Optional(Type.String({ minLength: 1, pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]*$" })),
        /** Seconds between agent heartbeats (Nova's report_interval). */
        reportInterval: Type.Number({ minimum: 0.1 }),
        /** Seconds without a heartbeat after which a service is reported down (Nova's service_down_time). */
        serviceDownTime: Type.Number({ minimum: 0.2 }),
        /** Seconds between power-state syncs of each agent (Nova's sync_power_state_interval). */
        syncPowerStateInterval: Type.Number({ minimum: 1 }),
        /** Seconds between inventory reports to placement (Nova's update_resources_interval). */
        updateResourcesInterval: Type.Number({ minimum: 1 }),
        /** noVNC proxy page that VNC console URLs point at (Nova's [vnc] novncproxy_base_url); unset: no VNC
         *  consoles are offered (400 "Unavailable console type", as Nova with [vnc] enabled = False). */
        vncProxyUrl: Type.Optional(Type.String({ pattern: "^https?://" })),
        /** The built-in console proxy (/vnc and /serial on the public listener) and its single-use tokens. */
        consoles: Type.Object(
          {
            /** VNC consoles (Nova's [vnc] enabled); URLs point at the built-in noVNC unless vncProxyUrl is set. */
            vnc: Type.Boolean(),
            /** Serial consoles over websocket (Nova's [serial_console] enabled), when the driver has them. */
            serial: Type.Boolean(),
            /** Seconds a console token stays valid (Nova's [consoleauth] token_ttl). */
            tokenTtl: Type.Integer({ minimum: 1 }),
            /** Browser Origins (host names) accepted besides the public URL's (Nova's [console] allowed_origins). */
            allowedOrigins: Type.Array(Type.String({ minLength: 1 })),
          },
          { additionalProperties: false },
        ),
        /** Availability zone of hosts that are in no aggregate with one (Nova's default_availability_zone). */
        defaultAvailabilityZone: Type.String({ minLength: 1 }),
        /** Resize and cold migration may pick the source host (Nova's allow_resize_to_same_host); "auto": when there is one compute host. */
        allowResizeToSameHost: Type.Union([Type.Boolean(), Type.Literal("auto")]),
        /** Seconds a build or move may go without a live conductor driving it before another conductor recovers it. */
        orphanTimeout: Type.Number({ minimum: 0.5 }),
        /** Seconds a host waits for network-vif-plugged of the tap VIFs it is about to start a guest on (Nova's vif_plugging_timeout; 0: no wait). */
        vifPluggingTimeout: Type.Number({ minimum: 0, maximum: 3600 }),
        /** Whether a VIF not plugged in time fails the build or move (Nova's vif_plugging_is_fatal); else the guest starts anyway. */
        vifPluggingIsFatal: Type.Boolean(),
        /** The metadata service (its own loopback listener; port 0: any free one) and config drives. */
        metadata: Type.Optional(
          Type.Object(
            {
              host: Type.Optional(Type.String({ minLength: 1 })),
              port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
              /** Nova's [api]dhcp_domain appended to guest hostnames ("novalocal"; "" for none). */
              dhcpDomain: Type.Optional(Type.String()),
              /** Nova's force_config_drive: every new server gets a config drive. */
              forceConfigDrive: Type.Optional(Type.Boolean()),
              /** Where a `stratus agent compute` sends its guests' metadata requests (another process's metadata
               *  service, e.g. the control plane's; its secret in STRATUS_METADATA_SECRET); unset: the agent serves
               *  the metadata API itself, from the shared database. */
              url: Type.Optional(Type.String({ pattern: "^https?://" })),
            },
            { additionalProperties: false },
          ),
        ),
        /** The credentials a `stratus agent compute` authenticates with (nova.conf's keystoneauth options): the
         *  qemu driver finds the image service in their token's catalog and downloads images with it. */
        serviceUser: Type.Optional(
          Type.Object(
            {
              /** Identity's v3 URL, e.g. http://controller:8080/identity/v3. */
              authUrl: Type.Optional(Type.String({ pattern: "^https?://" })),
              /** Default admin: images of every project need a cloud admin (Glance's context_is_admin). */
              username: Type.Optional(Type.String({ minLength: 1 })),
              /** Also STRATUS_SERVICE_PASSWORD. */
              password: Type.Optional(Type.String({ minLength: 1 })),
              /** Default admin. */
              projectName: Type.Optional(Type.String({ minLength: 1 })),
              /** Default "Default". */
              userDomainName: Type.Optional(Type.String({ minLength: 1 })),
              projectDomainName: Type.Optional(Type.String({ minLength: 1 })),
              /** Which catalog endpoints to use (default public). */
              interface: Type.Optional(
                Type.Union([Type.Literal("public"), Type.Literal("internal"), Type.Literal("admin")]),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        /** Capacity of each fake host. */
        fake: Type.Object(
          {
            vcpus: Type.Integer({ minimum: 1 }),
            memoryMb: Type.Integer({ minimum: 1 }),
            diskGb: Type.Integer({ minimum: 1 }),
            /** Simulated boot time of a fake guest, in ms. */
            spawnDelayMs: Type.Integer({ minimum: 0 }),
            /** Keep each fake host's guests in DATA_DIR/fake-hosts/HOST.json, so they survive a restart. */
            persist: Type.Boolean(),
          },
          { additionalProperties: false },
        ),
        /** The qemu virt driver (compute.driver: qemu). */
        qemu: Type.Optional(
          Type.Object(
            {
              /** KVM only when a probe guest really runs ("auto"), or forced. */
              accel: Type.Optional(
                Type.Union([Type.Literal("auto"), Type.Literal("kvm"), Type.Literal("tcg")]),
              ),
              /** Forward a free loopback port to each guest's SSH port (tests; reported by the driver). */
              hostForwardSsh: Type.Optional(Type.Boolean()),
              /** Seconds a soft reboot waits for the guest's ACPI shutdown before resetting it. */
              softRebootTimeout: Type.Optional(Type.Number({ minimum: 0 })),
              /** Build and register the built-in guest image at start-up (default true). */
              guestImage: Type.Optional(Type.Boolean()),
              /** Host capacity reported to placement (default: the machine's). */
              vcpus: Type.Optional(Type.Integer({ minimum: 1 })),
              memoryMb: Type.Optional(Type.Integer({ minimum: 1 })),
              diskGb: Type.Optional(Type.Integer({ minimum: 1 })),
            },
            { additionalProperties: false },
          ),
        ),
        scheduler: Type.Object(
          {
            /** Build attempts per server (the first host and then alternates), Nova's max_attempts. */
            maxAttempts: Type.Integer({ minimum: 1, maximum: 20 }),
            /** Positive spreads servers over hosts (Nova's default); negative packs them. */
            ramWeightMultiplier: Type.Number(),
            cpuWeightMultiplier: Type.Number(),
            diskWeightMultiplier: Type.Number(),
            /** Placement candidates asked for per request (Nova's max_placement_results). */
            maxPlacementResults: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    /** The Network service (Neutron v2.0): its driver, ML2-like type settings, quotas and the start-up topology. */
    network: Type.Object(
      {
        /** Data-plane driver of the network agents: noop (API and IPAM only) or linux (`stratus up` picks linux as root). */
        driver: Type.String({ minLength: 1 }),
        /** Whether this host's agent runs DHCP, routers and the public namespace (the in-process agent of `stratus up`). */
        networkNode: Type.Boolean(),
        /** This host's VXLAN tunnel address (null: VXLAN networks stay on this host, as host-local bridges). */
        tunnelIp: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
        /** Physical network -> host interface for flat and VLAN networks (unmapped ones are host-local bridges). */
        physicalInterfaces: Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 })),
        /** Opt-in (default null: none): the public namespace routes out through this host interface, NATed. */
        publicUplink: Type.Union([
          Type.Null(),
          Type.Object(
            { interface: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$" }) },
            { additionalProperties: false },
          ),
        ]),
        /** Availability zone of this host's network agent (Neutron's [AGENT] availability_zone). */
        availabilityZone: Type.String({ minLength: 1 }),
        /** MAC prefix of generated port MACs: the first three octets are kept (Neutron's base_mac). */
        baseMac: Type.String({ pattern: "^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$" }),
        /** MTU of the physical networks; tunnelled networks get it less their overhead (global_physnet_mtu). */
        globalPhysnetMtu: Type.Integer({ minimum: 68, maximum: 65535 }),
        /** Network types given to project networks, in order of preference (ML2's tenant_network_types). */
        tenantNetworkTypes: Type.Array(
          Type.Union([Type.Literal("vxlan"), Type.Literal("vlan"), Type.Literal("local")]),
        ),
        /** Physical networks flat networks may use; "*" allows any (ML2's flat_networks). */
        flatNetworks: Type.Array(Type.String({ minLength: 1 })),
        /** VLAN ranges per physical network (ML2's network_vlan_ranges); a physnet with [] takes only explicit ids. */
        vlanRanges: Type.Record(Type.String({ minLength: 1 }), Type.Array(IdRange)),
        /** VXLAN VNI ranges for project networks (ML2's vni_ranges). */
        vxlanRanges: Type.Array(IdRange),
        /** Seconds without a heartbeat after which an agent is shown dead (agent_down_time). */
        agentDownTime: Type.Number({ minimum: 1 }),
        /** Seconds between agent heartbeats (report_interval). */
        reportInterval: Type.Number({ minimum: 0.1 }),
        /** Neutron's per-resource limits: max_fixed_ips_per_port, max_dns_nameservers, ... */
        maxFixedIpsPerPort: Type.Integer({ minimum: 1 }),
        maxDnsNameservers: Type.Integer({ minimum: 0 }),
        maxSubnetHostRoutes: Type.Integer({ minimum: 0 }),
        maxAllowedAddressPairs: Type.Integer({ minimum: 0 }),
        /** Default quotas of every project (Neutron's [quotas] defaults). */
        quotas: NetworkQuotas,
        /** The devstack-like networks `stratus up` creates once: `public` (external) and the demo's `private`. */
        topology: Type.Object(
          {
            enabled: Type.Boolean(),
            publicCidr: Type.String({ minLength: 1 }),
            privateCidr: Type.String({ minLength: 1 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    /** The Block Storage service (Cinder v3): backend of this host's volume agent, defaults and quotas. */
    volume: Type.Object(
      {
        /** Backend of this host's volume agent: `file` (volumes as files under the data dir) or `fake` (in memory, tests). */
        backend: Type.String({ minLength: 1 }),
        /**
         * Several backends on this host (Cinder's enabled_backends; empty: one backend, `volume.backend`, named as
         * its driver). Each: its name (`host@name`), driver (`file`, `fake`), `volume_backend_name` (default: the
         * name), directory (file; default DATA_DIR/volumes/<name>) and capacity (fake; default fakeCapacityGb).
         */
        backends: Type.Array(
          Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.-]+$" }),
              driver: Type.String({ minLength: 1 }),
              volumeBackendName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
              dir: Type.Optional(Type.String({ minLength: 1 })),
              capacityGb: Type.Optional(Type.Integer({ minimum: 1 })),
            },
            { additionalProperties: false },
          ),
        ),
        /** Whether `stratus up` runs this host's volume agent in process (false: `stratus agent volume` runs it). */
        localAgent: Type.Boolean(),
        /** Name of the volume type volumes get when none is asked for (Cinder's default_volume_type). */
        defaultVolumeType: Type.String({ minLength: 1, maxLength: 255 }),
        /** Availability zone of this host's volume agent (storage_availability_zone). */
        availabilityZone: Type.String({ minLength: 1, maxLength: 255 }),
        /** Seconds between volume agent heartbeats and capacity reports (report_interval). */
        reportInterval: Type.Number({ minimum: 0.05 }),
        /** Seconds without a heartbeat after which a volume agent is down (service_down_time). */
        serviceDownTime: Type.Number({ minimum: 1 }),
        /** Capacity in GiB the fake backend reports. */
        fakeCapacityGb: Type.Integer({ minimum: 1 }),
        /** Port of this host's iSCSI portal (its own tgtd; 0: one derived from the data directory, 20000-29999). */
        iscsiPort: Type.Integer({ minimum: 0, maximum: 32767 }),
        /** Volume backups: driver (swift, posix, fake; "" = swift when the object service runs here, else posix),
         *  default Swift container, chunk size in bytes, posix directory ("" = DATA_DIR/backups). */
        backup: Type.Object(
          {
            driver: Type.String({ maxLength: 32 }),
            container: Type.String({ minLength: 1, maxLength: 255 }),
            chunkSize: Type.Integer({ minimum: 4096, maximum: 1024 ** 3 }),
            posixPath: Type.String(),
          },
          { additionalProperties: false },
        ),
        /** Default quotas of every project (Cinder's [DEFAULT] quota_* options; -1 is unlimited). */
        quotas: Type.Object(
          {
            volumes: Type.Integer({ minimum: -1 }),
            snapshots: Type.Integer({ minimum: -1 }),
            gigabytes: Type.Integer({ minimum: -1 }),
            backups: Type.Integer({ minimum: -1 }),
            backup_gigabytes: Type.Integer({ minimum: -1 }),
            per_volume_gigabytes: Type.Integer({ minimum: -1 }),
            groups: Type.Integer({ minimum: -1 }),
          },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    /** Plugins loaded at start-up (docs/plugins.md): routes added to a service and dashboard panels. */
    plugins: Type.Object(
      {
        /** Directory whose every sub-folder is a plugin ("" = DATA_DIR/plugins; a missing directory has none). */
        dir: Type.String(),
        /** More plugin folders, each holding a plugin.json (e.g. the repository's plugins/cost). */
        paths: Type.Array(Type.String({ minLength: 1 })),
        /** Each plugin's settings by plugin name, checked against the schema the plugin exports. */
        settings: Type.Record(Type.String({ minLength: 1 }), Type.Record(Type.String(), Type.Unknown())),
      },
      { additionalProperties: false },
    ),
    /** Extra per-service listeners for split deployments: service name → port (served at the root, e.g. identity on 5000). */
    listeners: Type.Record(
      Type.String({ pattern: "^[a-z-]+$" }),
      Type.Integer({ minimum: 0, maximum: 65535 }),
    ),
  },
  { additionalProperties: false },
);

/** Stratus configuration after merging defaults, the config file, the environment and flags. */
export type Config = Static<typeof ConfigSchema>;

/** Default data directory: $STRATUS_DATA_DIR or ~/.stratus. */
export const defaultDataDir = (): string => process.env.STRATUS_DATA_DIR || join(homedir(), ".stratus");

function defaults(dataDir: string): Config {
  return {
    dataDir,
    host: "127.0.0.1",
    port: 8080,
    bus: "memory",
    logLevel: "info",
    logFile: "",
    region: "RegionOne",
    identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 17 },
    policy: { enforceScope: false, defaults: "secure", adminProject: { name: "admin", domainId: "default" } },
    object: {
      driver: "file",
      maxFileSize: 5 * 1024 ** 3 + 2,
      inlineMaxBytes: 16384,
      reapInterval: 30,
      s3Domain: "",
      s3MinPartSize: 5 * 1024 ** 2,
      allowNamesInAcls: true,
      bulk: { yieldFrequency: 10, deleteConcurrency: 2 },
      slo: { yieldFrequency: 10, allowAsyncDelete: true, concurrency: 2 },
      containerSync: { interval: 300, allowFullUrls: true, allowedHosts: ["127.0.0.1"], realms: {} },
    },
    volume: {
      backend: "file",
      backends: [],
      localAgent: true,
      defaultVolumeType: "__DEFAULT__",
      availabilityZone: "nova",
      reportInterval: 10,
      serviceDownTime: 60,
      fakeCapacityGb: 1000,
      iscsiPort: 0,
      backup: { driver: "", container: "volumebackups", chunkSize: 32 * 1024 * 1024, posixPath: "" },
      quotas: {
        volumes: 10,
        snapshots: 10,
        gigabytes: 1000,
        backups: 10,
        backup_gigabytes: 1000,
        per_volume_gigabytes: -1,
        groups: 10,
      },
    },
    image: {
      maxImageSize: 1024 ** 4,
      store: "file",
      swift: { container: "glance", segmentSize: 1024 ** 3 },
      quotas: {
        imageCountTotal: -1,
        imageCountUploading: -1,
        imageSizeTotal: -1,
        imageStageTotal: -1,
        imagePropertyQuota: 128,
        imageTagQuota: 128,
        imageMemberQuota: 128,
      },
      projectQuotas: {},
      webDownload: { enabled: false, allowedHosts: [], maxRedirects: 5, timeout: 60 },
    },
    compute: {
      driver: "fake",
      hosts: 1,
      reportInterval: 10,
      serviceDownTime: 60,
      syncPowerStateInterval: 600,
      updateResourcesInterval: 60,
      defaultAvailabilityZone: "nova",
      allowResizeToSameHost: "auto",
      orphanTimeout: 120,
      vifPluggingTimeout: 300,
      vifPluggingIsFatal: true,
      consoles: { vnc: true, serial: true, tokenTtl: 600, allowedOrigins: [] },
      fake: { vcpus: 32, memoryMb: 131072, diskGb: 2048, spawnDelayMs: 0, persist: true },
      scheduler: {
        maxAttempts: 3,
        ramWeightMultiplier: 1,
        cpuWeightMultiplier: 1,
        diskWeightMultiplier: 1,
        maxPlacementResults: 1000,
      },
    },
    network: {
      driver: "noop",
      networkNode: true,
      tunnelIp: null,
      physicalInterfaces: {},
      publicUplink: null,
      availabilityZone: "nova",
      baseMac: "fa:16:3e:00:00:00",
      globalPhysnetMtu: 1500,
      tenantNetworkTypes: ["vxlan"],
      flatNetworks: ["*"],
      vlanRanges: { physnet1: [[1000, 1999]] },
      vxlanRanges: [[1, 1000]],
      agentDownTime: 75,
      reportInterval: 30,
      maxFixedIpsPerPort: 5,
      maxDnsNameservers: 5,
      maxSubnetHostRoutes: 20,
      maxAllowedAddressPairs: 10,
      quotas: {
        network: 100,
        subnet: 100,
        port: 500,
        subnetpool: -1,
        rbac_policy: 10,
        security_group: 10,
        security_group_rule: 100,
        router: 10,
        floatingip: 50,
      },
      topology: { enabled: true, publicCidr: "172.24.4.0/24", privateCidr: "10.0.0.0/26" },
    },
    plugins: { dir: "", paths: [], settings: {} },
    listeners: {},
  };
}

const ENV: Array<[string, (c: Record<string, any>, v: string) => void]> = [
  ["STRATUS_HOST", (c, v) => (c.host = v)],
  ["STRATUS_PORT", (c, v) => (c.port = Number(v))],
  ["STRATUS_PUBLIC_URL", (c, v) => (c.publicUrl = v)],
  ["STRATUS_DB", (c, v) => (c.db = v)],
  ["STRATUS_BUS", (c, v) => (c.bus = v)],
  ["STRATUS_LOG_LEVEL", (c, v) => (c.logLevel = v)],
  ["STRATUS_LOG_FILE", (c, v) => (c.logFile = v)],
  ["STRATUS_ADMIN_PASSWORD", (c, v) => (c.identity.adminPassword = v)],
  ["STRATUS_COMPUTE_DRIVER", (c, v) => (c.compute.driver = v)],
  ["STRATUS_COMPUTE_HOSTS", (c, v) => (c.compute.hosts = Number(v))],
  ["STRATUS_SERVICE_PASSWORD", (c, v) => ((c.compute.serviceUser ??= {}).password = v)],
  ["STRATUS_NETWORK_DRIVER", (c, v) => (c.network.driver = v)],
  ["STRATUS_VOLUME_BACKEND", (c, v) => (c.volume.backend = v)],
  ["STRATUS_VOLUME_BACKUP_DRIVER", (c, v) => (c.volume.backup.driver = v)],
  ["STRATUS_TUNNEL_IP", (c, v) => (c.network.tunnelIp = v)],
  ["STRATUS_PASSWORD_HASH_COST", (c, v) => (c.identity.passwordHashCost = Number(v))],
];

function deepMerge(base: Record<string, any>, over: Record<string, any>): Record<string, any> {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined || k === "__proto__" || k === "constructor" || k === "prototype") continue;
    if (
      v &&
      typeof v === "object" &&
      !Array.isArray(v) &&
      Object.hasOwn(base, k) &&
      typeof base[k] === "object"
    )
      deepMerge(base[k], v);
    else base[k] = v;
  }
  return base;
}

const validate = new Ajv({ allErrors: true, strict: false }).compile(ConfigSchema);

/** Build and validate the configuration; throws an Error that says which setting is wrong and where it came from. */
export function loadConfig(
  flags: Partial<Config> & { config?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): Config {
  const dataDir = resolve(flags.dataDir ?? env.STRATUS_DATA_DIR ?? defaultDataDir());
  const cfg = defaults(dataDir) as Record<string, any>;
  const file = flags.config ?? env.STRATUS_CONFIG ?? join(dataDir, "stratus.yaml");
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(file, "utf8"));
    } catch (e) {
      throw new Error(`Config file ${file} is not valid YAML: ${(e as Error).message}`);
    }
    if (parsed && typeof parsed === "object") deepMerge(cfg, parsed as Record<string, any>);
  } else if (flags.config) throw new Error(`Config file ${file} does not exist`);
  for (const [name, set] of ENV)
    if (env[name] !== undefined && env[name] !== "") set(cfg, env[name] as string);
  const { config: _c, ...rest } = flags;
  deepMerge(cfg, rest as Record<string, any>);
  cfg.dataDir = dataDir;
  if (!validate(cfg)) {
    const msgs = (validate.errors ?? []).map(
      (e) =>
        `${e.instancePath.slice(1).replace(/\//g, ".") || "(root)"} ${e.message}${e.keyword === "additionalProperties" ? ` (${String(e.params.additionalProperty)})` : ""}`,
    );
    throw new Error(
      `Invalid configuration (defaults < ${file} < STRATUS_* environment < flags): ${msgs.join("; ")}`,
    );
  }
  return cfg as Config;
}

/** The base URL services advertise in the catalog. */
export function publicBaseUrl(cfg: Config, boundPort?: number): string {
  if (cfg.publicUrl) return cfg.publicUrl.replace(/\/$/, "");
  const host = cfg.host === "0.0.0.0" || cfg.host === "::" ? "127.0.0.1" : cfg.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${boundPort ?? cfg.port}`;
}

/** Database URL: configured, or SQLite in the data dir. */
export const databaseUrl = (cfg: Config): string => cfg.db ?? `sqlite://${join(cfg.dataDir, "stratus.db")}`;
