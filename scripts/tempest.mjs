// `npm run tempest -- [SERVICE] [options]`: run OpenStack's tempest API tests for one service against Stratus.
//
// Starts Stratus on a fresh data dir and a free port (or uses a running one with --url), makes a tempest workspace
// with a tempest.conf for that cloud, runs `tempest run --regex SUITE --concurrency N` (Debian's tempest, under
// /usr/bin/python3, with stestr), then prints the pass/fail/skip counts and each failing test with a one-line reason.
// Everything stays in the workspace: tempest.conf, run.log (tempest's output), tempest.log (its HTTP log),
// failures.txt (full tracebacks), failed/TEST.log (the HTTP log of each failed test), results.jsonl (one line per
// test), stratus.log and stratus-data/.
// For image, the harness's own Stratus gets web-download enabled and tempest's [image] http_image is served by a
// local web server, so the import tests need no internet. For compute, the harness's own Stratus runs two hosts
// (so that the migration tests have somewhere to go; fake ones with --compute-driver fake, else `stratus up`'s
// driver), and the harness uploads the two small raw images that tempest boots ([compute] image_ref and
// image_ref_alt; the fake driver boots any bytes, qemu guests find no OS in them).
//
// Options:
//   SERVICE                 which API tests: identity (default); see SUITES below
//   --url URL               test a running Stratus (base URL, e.g. http://127.0.0.1:8080) instead of starting one
//   --clouds-yaml FILE      admin credentials for --url (default DATA_DIR/clouds.yaml: --data-dir, $STRATUS_DATA_DIR
//                           or ~/.stratus)
//   --regex R               run the tests matching R instead of the whole suite (e.g. 'identity.*test_users')
//   --exclude-regex R       skip tests matching R
//   --concurrency N         tempest workers (default 2; 1 for scenario)
//   --workspace DIR         where the workspace goes (default .data/tempest/SERVICE, recreated each run)
//   --isolated-networks     [auth] create_isolated_networks = true (upstream's default): every test project gets a
//                           network, subnet and router to the public network, so servers boot with ports
//   --compute-driver D      the compute suite's virt driver (fake or qemu; default: `stratus up`'s, qemu as root).
//                           Its images are 4 MiB of random bytes that no guest can run, so under qemu the guests never
//                           answer a hot-unplug or write a console: see docs/tempest-compute.md
//
// The `scenario` suite boots real guests (see docs/tempest-scenarios.md): it needs root, and the harness's Stratus
// runs the qemu driver and the linux data plane. tempest boots the built-in guest image (user cirros, keypair auth)
// and reaches it over floating IPs, so it runs inside the cloud's public network namespace (`stratus public-exec`),
// where the API's loopback port is carried by scripts/lib/api-forward.mjs. One test at a time by default (TCG).
import { ensureDashboardBuilt } from "./lib/dashboard.mjs";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { names, TEST_PACKAGES } from "./lib/packages.mjs";
import {
  ROOT,
  SetupError,
  ensureBuilt,
  ensureDebianPackages,
  ensureNodeDeps,
  main,
  step,
} from "./lib/setup.mjs";
import { forward } from "./lib/api-forward.mjs";
import { readClouds, startStratus } from "./lib/stratus.mjs";

/** tempest's [service_available] switches: what Stratus serves today. Flip one when its service lands. */
const AVAILABLE = { nova: true, glance: true, neutron: true, cinder: true, swift: true, horizon: true };

/** The scenario modules the `scenario` suite runs: the ones issues 10 and 11 ask for. */
const SCENARIO_MODULES = [
  "test_server_basic_ops",
  "test_minimum_basic",
  "test_network_basic_ops",
  "test_security_groups_basic_ops",
  "test_volume_boot_pattern",
  "test_stamp_pattern",
];

/** Test suites by service: tempest's test-id regex and the [service_available] services they need. */
const SUITES = {
  identity: { regex: "^tempest\\.api\\.identity", needs: [] },
  image: { regex: "^tempest\\.api\\.image", needs: ["glance"] },
  // With create_isolated_networks off and no fixed_network_name, tempest boots servers with no networks (and
  // "networks": "none" where a microversion needs it); the network service serves the compute API's proxies.
  compute: { regex: "^tempest\\.api\\.compute", needs: ["nova", "glance", "neutron"] },
  network: { regex: "^tempest\\.api\\.network", needs: ["neutron"] },
  // Volume attach and boot tests create servers (fake hypervisor) and volumes from tempest's compute image.
  volume: { regex: "^tempest\\.api\\.volume", needs: ["cinder", "nova", "glance"] },
  "object-storage": { regex: "^tempest\\.api\\.object_storage", needs: ["swift"] },
  // Horizon's login form, which the dashboard also serves (src/dashboard/horizon-login.ts).
  dashboard: { regex: "^tempest\\.scenario\\.test_dashboard_basic_ops", needs: ["horizon"] },
  // Real guests under the qemu driver, reached over floating IPs from the public namespace (issues 10 and 11).
  scenario: {
    regex: `^tempest\\.scenario\\.(${SCENARIO_MODULES.join("|")})\\.`,
    needs: ["nova", "glance", "neutron", "cinder"],
    guests: true,
  },
};

/** tempest's names of the object storage middleware features Stratus implements (as its /info lists them). */
const OBJECT_APIS = [
  "slo",
  "tempurl",
  "container_quotas",
  "bulk_delete",
  "formpost",
  "account_quotas",
  "bulk_upload",
  "crossdomain",
  "staticweb",
  "container_sync",
];

/** Container sync for the object storage suite: tempest's realm and cluster (its realm_name and cluster_name
 *  defaults) name this cloud's own listener; the daemon runs every second (tempest polls every 2 s). */
const CONTAINER_SYNC = {
  interval: 1,
  realms: { realm1: { key: randomBytes(16).toString("hex"), clusters: { name1: "/object-store/v1/" } } },
};

/** The [identity-feature-enabled] flags: what Stratus's identity API supports. */
const IDENTITY_FEATURES = {
  api_v2: false,
  api_v2_admin: false,
  api_v3: true,
  application_credentials: true,
  access_rules: true,
  project_tags: true,
  trust: true,
  // Stratus implements the rules (identity.securityCompliance), but test_user_update_own_password also needs
  // token-method auth with a revoked token to answer 404 (Keystone's TokenNotFound); Stratus answers 401.
  security_compliance: true,
  domain_specific_drivers: false,
  external_idp: false,
  immutable_user_source: false,
};

/** The [image-feature-enabled] flags: what Stratus's image API supports (tempest 33 knows these five). */
const IMAGE_FEATURES = {
  api_v2: true,
  api_v1: false,
  // Interoperable image import: glance-direct always; web-download only when image.webDownload is enabled.
  import_image: true,
  // os_glance_* properties are reserved for the service, as in Glance since Wallaby.
  os_glance_reserved: true,
  // No multiple locations (show_multiple_locations) and no http store.
  manage_locations: false,
};

/**
 * tempest's [image] formats. tempest uploads random bytes under container_formats[0] and the first disk_formats
 * (up to six pairs in ListUserImagesTest), but Stratus inspects uploads and refuses data that is not the declared
 * format (a random blob is not a qcow2, vmdk, vhd, vhdx, vdi or iso). tempest 33 has no image_format_enforcement
 * option to say so, so the list names only the formats without a detectable structure, which accept any bytes:
 * raw, and the ones the inspector takes as declared. Every format Glance lists is still accepted by the API.
 */
const IMAGE_FORMATS = {
  container_formats: ["bare", "ovf", "ova", "ami", "ari", "aki", "docker", "compressed"],
  disk_formats: ["raw", "ami", "ari", "aki", "ploop"],
};

/**
 * Hosts the harness's Stratus also lets web-download fetch from: test_image_web_download_import_with_bad_url imports
 * from http://does-not.exist/... and expects the import to be accepted and then fail in the background, as it does
 * with Glance's default URI filtering (any host). Stratus only fetches from image.webDownload.allowedHosts and would
 * refuse the request up front, so the host is listed; it does not resolve, and the download fails.
 */
const WEB_DOWNLOAD_BAD_HOSTS = ["does-not.exist"];

/**
 * A local stand-in for tempest's [image] http_image, for the web-download import tests: 64 KiB of random bytes
 * (acceptable as raw, the first of IMAGE_FORMATS.disk_formats) on a free loopback port.
 */
async function serveHttpImage() {
  const data = randomBytes(64 * 1024);
  const server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length });
    res.end(req.method === "HEAD" ? undefined : data);
  });
  await new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(0, "127.0.0.1", res);
  });
  const host = `127.0.0.1:${server.address().port}`;
  return {
    host,
    url: `http://${host}/cirros.img`,
    close: () => new Promise((res) => server.close(() => res())),
  };
}

/** The compute API's microversion range (Nova's 2.1 to 2.93, as /compute/v2.1 announces). */
const COMPUTE_MICROVERSIONS = { min: "2.1", max: "2.93" };

/** [compute] flavor_ref and flavor_ref_alt: Stratus's default m1.nano (id 42) and the larger m1.micro (id 84). */
const COMPUTE_FLAVORS = { ref: "42", alt: "84" };

/** How many fake hosts the harness's own Stratus runs: two, so that cold and live migration can move a server. */
const COMPUTE_HOSTS = 2;

/**
 * The [compute-feature-enabled] flags: what Stratus's compute API and its fake driver support (tempest 33's
 * options; the ones left out keep tempest's default).
 */
const COMPUTE_FEATURES = {
  disk_config: true,
  // Nova since Wallaby: a server's hostname is its name with '.' and other non-hostname characters replaced.
  hostname_fqdn_sanitization: true,
  // No Stratus driver can set a guest's password (no guest agent): changePassword answers 409, as Nova's libvirt
  // driver without the qemu guest agent.
  change_password: false,
  console_output: true,
  resize: true,
  pause: true,
  shelve: true,
  shelve_migrate: false,
  suspend: true,
  cold_migration: true,
  live_migration: true,
  live_migrate_back_and_forth: false,
  // Only consulted with [validation] run_validation, which is off: there is no guest to ssh into.
  metadata_service: false,
  // The fake driver copies nothing and needs no shared storage, so block live migration works as well.
  block_migration_for_live_migration: true,
  can_migrate_between_any_hosts: true,
  // No noVNC websocket proxy yet (compute.vncProxyUrl unset: VNC consoles answer "Unavailable console type"), and
  // tempest's VNC tests speak RFB through it.
  vnc_console: false,
  spice_console: false,
  rdp_console: false,
  serial_console: false,
  rescue: true,
  // Stable device rescue (hw_rescue_device/hw_rescue_bus image properties) is not implemented.
  stable_rescue: false,
  enable_instance_password: true,
  // Needs neutron.
  interface_attach: false,
  snapshot: true,
  nova_cert: false,
  // Accepted below microversion 2.57, as in Nova.
  personality: true,
  // Volume features need cinder.
  attach_encrypted_volume: false,
  swap_volume: false,
  volume_backed_live_migration: false,
  // Multiattach volumes (Nova 2.60, the block storage service's multiattach volume types) are served.
  volume_multiattach: true,
  ide_bus: false,
  config_drive: true,
  // The XenAPI-only APIs (os-agents, writeable server metadata through them, resetNetwork) as in Nova after Ussuri.
  xenapi_apis: false,
  unified_limits: false,
  // What src/compute/scheduler/filters.ts runs (defaultFilters); tempest uses it to pick the scheduler-hint tests.
  scheduler_enabled_filters: [
    "ComputeFilter",
    "AvailabilityZoneFilter",
    "ImagePropertiesFilter",
    "ServerGroupAntiAffinityFilter",
    "ServerGroupAffinityFilter",
    "SameHostFilter",
    "DifferentHostFilter",
    "AggregateMultiTenancyIsolation",
    "AggregateInstanceExtraSpecsFilter",
    "ComputeCapabilitiesFilter",
  ].join(","),
};

/** The images tempest boots ([compute] image_ref, image_ref_alt): raw disks of this many bytes, made public. */
const COMPUTE_IMAGE_BYTES = 4 * 1024 * 1024;
const COMPUTE_IMAGE_NAMES = ["tempest-compute-image", "tempest-compute-image-alt"];

/** The security compliance rules (Keystone's [security_compliance]) the harness's own Stratus runs with when
 * security_compliance is enabled above; tempest's [identity] user_lockout_* and user_unique_last_password_count
 * must match them. Against --url they are unknown, so tempest's security_compliance tests are skipped there. */
const SECURITY_COMPLIANCE = { lockoutFailureAttempts: 2, lockoutDuration: 5, uniqueLastPasswordCount: 2 };

/** The external network `stratus up` creates (src/network/topology.ts): tempest's public network. */
const PUBLIC_NETWORK = "public";

/** The [network-feature-enabled] flags besides api_extensions (read from the cloud): what the network API does. */
const NETWORK_FEATURES = {
  ipv6: true,
  // ipv6_ra_mode and ipv6_address_mode (slaac, dhcpv6-stateful, dhcpv6-stateless) are accepted and honoured.
  ipv6_subnet_attributes: true,
  port_admin_state_change: true,
  // The port-security extension: port_security_enabled on networks and ports.
  port_security: true,
  // For the compute suite too: its floating IP tests drive Nova's os-floating-ips proxy, which the compute API
  // answers over the network service (src/compute/api/legacy/floating-ips.ts).
  floating_ips: true,
};

/** The block storage API's microversion range (Cinder Zed's 3.0 to 3.70, as /volume/v3 announces). */
const VOLUME_MICROVERSIONS = { min: "3.0", max: "3.70" };

/**
 * The harness's Stratus runs one volume agent with two `file` backends (qcow2 files under the data dir, Cinder's
 * enabled_backends), `file` and `file2`, so the multi-backend and retype-with-migration tests have two
 * volume_backend_names to place and move volumes between.
 */
const VOLUME_BACKENDS = [
  { name: "file", driver: "file" },
  { name: "file2", driver: "file" },
];

/**
 * tempest's [volume] backend options: the pools report those volume_backend_names and vendor_name `Stratus`
 * (GET /scheduler-stats/get_pools). As root they export over iSCSI (tgt), tempest's default storage protocol.
 */
const VOLUME_BACKEND = { backend_names: "file", vendor_name: "Stratus", storage_protocol: "iSCSI" };

/** The [volume-feature-enabled] flags: what Stratus's block storage API supports (tempest 33's options). */
const VOLUME_FEATURES = {
  // Set per run (tempestConf's multiBackend): true for the volume suite's own Stratus, which has two backends on
  // its volume host (VOLUME_BACKENDS) and migrates volumes between them; other suites' clouds have one.
  multi_backend: false,
  // Backups to object storage (swift driver, the harness's own Stratus runs the object service).
  backup: true,
  snapshot: true,
  clone: true,
  // Volumes are managed and unmanaged (the file backend: unmanage keeps the file as volume-<id>, tempest's default
  // manage_volume_ref template); managing snapshots is not implemented.
  manage_snapshot: false,
  manage_volume: true,
  // Stratus serves no /extensions list; "all" makes tempest's is_extension_enabled true for every extension.
  api_extensions: "all",
  // The compute service is told (volume-extended event) and resizes the attached disk.
  extend_attached_volume: true,
  // No encryption (no key manager).
  extend_attached_encrypted_volume: false,
};

/**
 * What the `scenario` suite boots and how tempest logs in: the whole-disk guest image `stratus up` registers with the
 * qemu driver (src/cloud/guest-image.ts GUEST_IMAGE_NAMES.disk; it boots from its own boot loader, so it also boots
 * from a volume made of it), user cirros with the keypair tempest creates (dropbear; the password is the image's
 * console default), m1.micro (192 MiB; m1.tiny as the alternative), and the guest image's disk.qcow2 in the build
 * cache for the tests that upload an image of their own ([scenario] img_file).
 */
const SCENARIO_GUEST = {
  imageName: "stratus-guest",
  user: "cirros",
  password: "gocubsgo",
  flavors: { ref: "84", alt: "1" },
};

/**
 * tempest's timeouts for real guests under TCG on a shared machine (seconds): a boot to a login prompt takes a
 * minute or more there, and tempest's defaults (300 s build, 300 s ssh, 120 s ping) leave no margin.
 */
const SCENARIO_TIMEOUTS = { build: 600, ssh: 420, ping: 300, connect: 60 };

/**
 * [compute-feature-enabled] flags the scenario suite changes: its guests really reach the metadata service (at
 * 169.254.169.254 through the router's proxy) and the qemu driver hot-plugs NICs.
 */
const SCENARIO_COMPUTE_FEATURES = { metadata_service: true, interface_attach: true };

const TEMPEST = "/usr/bin/tempest";
const STESTR = "/usr/bin/stestr";

main(async () => {
  const { values: o, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "clouds-yaml": { type: "string" },
      "data-dir": { type: "string" },
      regex: { type: "string" },
      "exclude-regex": { type: "string" },
      concurrency: { type: "string" },
      workspace: { type: "string" },
      "isolated-networks": { type: "boolean", default: false },
      "compute-driver": { type: "string" },
    },
  });
  const service = positionals[0] ?? "identity";
  const suite = SUITES[service];
  if (!suite) throw new SetupError(`Unknown service ${service}: one of ${Object.keys(SUITES).join(", ")}`, 2);
  const missing = suite.needs.filter((s) => !AVAILABLE[s]);
  if (missing.length)
    throw new SetupError(
      `Stratus does not serve ${missing.join(", ")} yet, so the ${service} tests cannot run.`,
      2,
    );
  if (suite.guests && process.getuid?.() !== 0)
    throw new SetupError(
      `The ${service} tests boot real guests on the linux data plane: run them as root.`,
      2,
    );
  const concurrency = o.concurrency ?? (suite.guests ? "1" : "2");
  const ws = resolve(o.workspace ?? join(ROOT, ".data", "tempest", service));
  const wsFile = `${ws}.workspace.yaml`;
  const wsName = `stratus-${service}`;

  await ensureNodeDeps();
  if (!o.url) {
    await ensureBuilt();
    await ensureDashboardBuilt();
  }
  await ensureDebianPackages(names(TEST_PACKAGES.filter((p) => p.pkg === "tempest")), "tempest");

  step(`Creating the tempest workspace ${ws}`);
  // Recreated each run; refuse to wipe a directory that is not an earlier workspace (a mistyped --workspace).
  if (existsSync(ws) && readdirSync(ws).length && !existsSync(join(ws, ".stestr.conf")))
    throw new SetupError(`${ws} exists and is not a tempest workspace: choose another --workspace`, 2);
  rmSync(ws, { recursive: true, force: true });
  rmSync(wsFile, { force: true });
  mkdirSync(dirname(ws), { recursive: true });
  const init = spawnSync(TEMPEST, ["init", "--workspace-path", wsFile, "--name", wsName, ws], {
    env: pyEnv(),
    encoding: "utf8",
  });
  if (init.status !== 0) throw new SetupError(`tempest init failed:\n${init.stdout}${init.stderr}`);

  let cloud = null;
  /** The local web server for tempest's web-download tests, when the harness starts Stratus for image. */
  let httpImage = null;
  let authUrl;
  let admin;
  /** The cloud's data directory (its public namespace is named after it: `stratus public-exec`). */
  let dataDir;
  if (o.url) {
    const base = o.url.replace(/\/+$/, "");
    authUrl = /\/v3$/.test(base) ? base : /\/identity$/.test(base) ? `${base}/v3` : `${base}/identity/v3`;
    dataDir = o["data-dir"] ?? (process.env.STRATUS_DATA_DIR || join(homedir(), ".stratus"));
    const file = o["clouds-yaml"] ?? join(dataDir, "clouds.yaml");
    admin = (
      await readClouds(file).catch((e) => {
        throw new SetupError(
          `Cannot read the admin credentials from ${file} (${e.message}); pass --clouds-yaml FILE`,
        );
      })
    )["stratus-admin"].auth;
    step(`Using the running cloud at ${authUrl} (admin credentials from ${file})`);
  } else {
    step("Starting Stratus on a fresh data dir and a free port");
    dataDir = join(ws, "stratus-data");
    mkdirSync(dataDir, { recursive: true });
    // JSON is YAML: the data dir's stratus.yaml turns the security compliance rules on, and web-download on
    // for the harness's own image server (see serveHttpImage).
    const settings = {};
    if (IDENTITY_FEATURES.security_compliance)
      settings.identity = { securityCompliance: SECURITY_COMPLIANCE };
    if (service === "image") {
      httpImage = await serveHttpImage();
      settings.image = {
        webDownload: {
          enabled: true,
          allowedHosts: [httpImage.host, ...WEB_DOWNLOAD_BAD_HOSTS],
          timeout: 10,
        },
      };
      step(`Serving [image] http_image at ${httpImage.url}`);
    }
    if (service === "compute") {
      const driver = o["compute-driver"];
      if (driver !== undefined && driver !== "fake" && driver !== "qemu")
        throw new SetupError(`--compute-driver ${driver}: one of fake, qemu`, 2);
      settings.compute = { hosts: COMPUTE_HOSTS, ...(driver ? { driver } : {}) };
    }
    if (service === "object-storage") settings.object = { containerSync: CONTAINER_SYNC };
    // The volume suite's servers (attach, boot from volume) run on one fake host; volumes on the file backend.
    if (service === "volume") {
      settings.compute = { driver: "fake", hosts: 1 };
      settings.volume = { backends: VOLUME_BACKENDS };
    }
    // Real guests: one qemu host (it builds and registers the guest image at start-up; the linux data plane is
    // the default as root).
    if (suite.guests) settings.compute = { driver: "qemu", hosts: 1 };
    if (Object.keys(settings).length)
      writeFileSync(join(dataDir, "stratus.yaml"), `${JSON.stringify(settings, null, 2)}\n`);
    // Tempest's dynamic credentials make its "admin" persona the admin of a fresh project of its own (tempest
    // assumes upstream's rule that the admin role anywhere is cloud admin). Declare that persona a cloud admin
    // for this run; every other rule keeps Stratus's secure-RBAC defaults (README, Policy).
    writeFileSync(
      join(dataDir, "policy.yaml"),
      '# Written by scripts/tempest.mjs: tempest\'s dynamic admins are admins of their own project.\n"cloud_admin": "role:admin"\n',
    );
    cloud = await startStratus({
      dataDir,
      logFile: join(ws, "stratus.log"),
      // A first run builds the guest image (minutes on a loaded machine).
      ...(suite.guests ? { timeoutMs: 30 * 60_000 } : {}),
    });
    authUrl = cloud.authUrl;
    admin = cloud.clouds["stratus-admin"].auth;
    step(`Stratus is up at ${cloud.url} (log: ${join(ws, "stratus.log")})`);
  }
  const stopCloud = async () => {
    if (httpImage) void httpImage.close();
    httpImage = null;
    if (!cloud) return null;
    const c = cloud;
    cloud = null;
    return c.stop();
  };
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => {
      void stopCloud().finally(() => process.exit(130));
    });

  try {
    const compute = suite.guests
      ? await prepareGuests(authUrl, admin)
      : service === "compute" || service === "volume"
        ? await prepareCompute(authUrl, admin)
        : undefined;
    const network = AVAILABLE.neutron ? await prepareNetwork(authUrl, admin) : undefined;
    if (service === "object-storage") await prepareObjectStorage(authUrl, admin);
    writeFileSync(
      join(ws, "etc", "tempest.conf"),
      tempestConf({
        ws,
        authUrl,
        admin,
        securityCompliance: IDENTITY_FEATURES.security_compliance && !o.url,
        httpImageUrl: httpImage?.url,
        compute,
        network,
        isolatedNetworks: o["isolated-networks"],
        guests: Boolean(suite.guests),
        multiBackend: service === "volume" && !o.url,
      }),
    );
    const regex = o.regex ?? suite.regex;
    const args = [
      "run",
      "--workspace-path",
      wsFile,
      "--workspace",
      wsName,
      "--regex",
      regex,
      "--concurrency",
      concurrency,
    ];
    if (o["exclude-regex"]) args.push("--exclude-regex", o["exclude-regex"]);
    step(`tempest ${args.join(" ")}`);
    const t0 = Date.now();
    const code = suite.guests
      ? await inPublicNamespace({ dataDir, authUrl, ws }, (run) =>
          tee(...run(TEMPEST, args), join(ws, "run.log")),
        )
      : await tee(TEMPEST, args, join(ws, "run.log"));
    const secs = ((Date.now() - t0) / 1000).toFixed(0);

    const results = collectResults(ws);
    if (results?.some((r) => r.status === "fail" || r.status === "uxsuccess")) saveFailedTestLogs(ws);
    const stopped = await stopCloud();
    if (results === null) {
      throw new SetupError(
        `tempest run exited ${code} after ${secs} s and left no results: see ${join(ws, "run.log")}`,
      );
    }
    return report({ results, ws, service, secs, code, stopped });
  } finally {
    await stopCloud();
  }
});

/**
 * Run `fn` with the cloud's API reachable inside its public network namespace, where floating IPs are: the API's
 * loopback port is carried there over a unix socket in the workspace (scripts/lib/api-forward.mjs), so the catalog's
 * http://127.0.0.1:PORT URLs work unchanged and no route is added. `fn` is given `wrap(cmd, args)`, which returns
 * the [cmd, args] that runs cmd in the namespace (`stratus public-exec`).
 */
async function inPublicNamespace({ dataDir, authUrl, ws }, fn) {
  const api = new URL(authUrl);
  if (!["127.0.0.1", "localhost"].includes(api.hostname))
    throw new SetupError(
      `The ${api.hostname} API cannot be carried into the public namespace: use a loopback URL`,
      2,
    );
  const port = Number(api.port || 80);
  const sock = join(ws, "api.sock");
  rmSync(sock, { force: true });
  const hostSide = await forward(sock, { port, host: api.hostname });
  const publicExec = [join(ROOT, "bin", "stratus"), "public-exec", "--data-dir", dataDir, "--"];
  const forwarder = join(ROOT, "scripts", "lib", "api-forward.mjs");
  // Its own process group, so that stopping it also stops the forwarder that `ip netns exec` runs.
  const nsSide = spawn(process.execPath, [...publicExec, process.execPath, forwarder, String(port), sock], {
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  const stopNsSide = () => {
    try {
      process.kill(-nsSide.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  // Also when the harness is interrupted (its signal handlers exit the process).
  process.once("exit", stopNsSide);
  try {
    await new Promise((res, rej) => {
      let out = "";
      nsSide.stdout.on("data", (d) => {
        out += d;
        if (out.includes("ready")) res();
      });
      nsSide.on("error", rej);
      nsSide.on("exit", (code) =>
        rej(new SetupError(`The API forwarder in the public namespace exited (${code})`)),
      );
    });
    step(`The API is at 127.0.0.1:${port} in the public namespace too`);
    return await fn((cmd, args) => [process.execPath, [...publicExec, cmd, ...args]]);
  } finally {
    process.off("exit", stopNsSide);
    stopNsSide();
    hostSide.close();
    rmSync(sock, { force: true });
  }
}

/** The environment for Debian's Python tools: /usr/bin first, no pyenv or virtualenv settings, no OS_* variables. */
function pyEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith("OS_") && !k.startsWith("PYTHON") && k !== "VIRTUAL_ENV") env[k] = v;
  env.PATH = `/usr/bin:/bin:/usr/sbin:/sbin:${process.env.PATH ?? ""}`;
  return env;
}

/** An admin token scoped to the admin project, and the public endpoints of its catalog by service type. */
async function adminSession(authUrl, admin) {
  const domain = (name) => ({ name: name ?? "Default" });
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: {
            user: { name: admin.username, password: admin.password, domain: domain(admin.user_domain_name) },
          },
        },
        scope: { project: { name: admin.project_name, domain: domain(admin.project_domain_name) } },
      },
    }),
  });
  if (res.status !== 201)
    throw new SetupError(`Admin token request failed: ${res.status} ${await res.text()}`);
  const token = res.headers.get("x-subject-token");
  const endpoints = {};
  for (const svc of (await res.json()).token.catalog ?? []) {
    const ep = svc.endpoints.find((e) => e.interface === "public");
    if (ep) endpoints[svc.type] = ep.url.replace(/\/+$/, "");
  }
  return { token, endpoints };
}

/**
 * What tempest's compute tests need from the cloud: the two images to boot (uploaded here, or reused when an
 * active public image of that name exists, as with --url), the flavors (which must exist), and the number of
 * compute hosts (for [compute] min_compute_nodes, which gates the multi-host tests).
 */
async function prepareCompute(authUrl, admin) {
  const { token, endpoints } = await adminSession(authUrl, admin);
  const req = requester(token);
  for (const type of ["compute", "image"])
    if (!endpoints[type]) throw new SetupError(`The catalog has no public ${type} endpoint`);
  const nova = endpoints.compute;
  const glance = `${endpoints.image}/v2`;
  for (const id of Object.values(COMPUTE_FLAVORS)) await req("GET", `${nova}/flavors/${id}`);
  const images = [];
  for (const name of COMPUTE_IMAGE_NAMES) {
    const found = await req("GET", `${glance}/images?name=${name}&status=active&visibility=public`);
    let id = found.images[0]?.id;
    if (!id) {
      const img = await req("POST", `${glance}/images`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name, disk_format: "raw", container_format: "bare", visibility: "public" }),
        ok: [201],
      });
      await req("PUT", `${glance}/images/${img.id}/file`, {
        headers: { "content-type": "application/octet-stream" },
        body: randomBytes(COMPUTE_IMAGE_BYTES),
        ok: [204],
      });
      id = img.id;
    }
    images.push(id);
  }
  const hosts = await computeHosts(req, nova);
  step(
    `Compute: images ${images.join(", ")}, flavors ${Object.values(COMPUTE_FLAVORS).join(", ")}, ${hosts} host(s)`,
  );
  return { imageRef: images[0], imageRefAlt: images[1], hosts };
}

/** A JSON request with the admin token that throws a SetupError unless the status is one of `ok`. */
function requester(token) {
  return async (method, url, { body, headers = {}, ok = [200] } = {}) => {
    const res = await fetch(url, { method, headers: { "x-auth-token": token, ...headers }, body });
    if (!ok.includes(res.status))
      throw new SetupError(`${method} ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
    return res.status === 204 ? null : res.json().catch(() => null);
  };
}

/** How many compute hosts are up and enabled (at least one, or a SetupError). */
async function computeHosts(req, nova) {
  const hypervisors = await req("GET", `${nova}/os-hypervisors`);
  const hosts = hypervisors.hypervisors.filter((h) => h.state === "up" && h.status === "enabled").length;
  if (hosts < 1) throw new SetupError(`No compute host is up and enabled at ${nova}/os-hypervisors`);
  return hosts;
}

/**
 * What the scenario tests need: the guest image that `stratus up` registers with the qemu driver (its id for
 * [compute] image_ref and image_ref_alt, and its disk.qcow2 in the build cache, found by the image's
 * stratus_guest_version, for [scenario] img_file), the flavors, and a compute host.
 */
async function prepareGuests(authUrl, admin) {
  const { token, endpoints } = await adminSession(authUrl, admin);
  const req = requester(token);
  for (const type of ["compute", "image"])
    if (!endpoints[type]) throw new SetupError(`The catalog has no public ${type} endpoint`);
  const nova = endpoints.compute;
  for (const id of Object.values(SCENARIO_GUEST.flavors)) await req("GET", `${nova}/flavors/${id}`);
  const name = SCENARIO_GUEST.imageName;
  const found = await req("GET", `${endpoints.image}/v2/images?name=${name}&status=active`);
  const image = found.images[0];
  if (!image)
    throw new SetupError(
      `No active image ${name}: is the cloud running the qemu driver with its guest image?`,
    );
  const cache = process.env.STRATUS_CACHE || join(homedir(), ".cache", "stratus");
  const imgFile = join(cache, "guest-image", String(image.stratus_guest_version), "disk.qcow2");
  if (!existsSync(imgFile))
    throw new SetupError(`The guest image's disk ${imgFile} is not in the build cache`);
  const hosts = await computeHosts(req, nova);
  step(`Guests: image ${name} (${image.id}), ${imgFile}, ${hosts} host(s)`);
  return { imageRef: image.id, imageRefAlt: image.id, hosts, imgFile };
}

/**
 * What tempest's object storage tests need of the cloud: the ResellerAdmin role ([object-storage]
 * reseller_admin_role), which its dynamic credentials grant to the account quota tests' reseller user.
 */
async function prepareObjectStorage(authUrl, admin) {
  const { token } = await adminSession(authUrl, admin);
  const headers = { "x-auth-token": token, "content-type": "application/json" };
  const found = await fetch(`${authUrl}/roles?name=ResellerAdmin`, { headers }).then((r) => r.json());
  if (!found.roles?.length) {
    const res = await fetch(`${authUrl}/roles`, {
      method: "POST",
      headers,
      body: JSON.stringify({ role: { name: "ResellerAdmin" } }),
    });
    if (res.status !== 201) throw new SetupError(`Creating the ResellerAdmin role answered ${res.status}`);
  }
  step("Object storage: the ResellerAdmin role exists");
}

/**
 * What tempest's network tests (and the compute tests, with neutron available) need to know of the network
 * service: its API extensions exactly as /v2.0/extensions lists them (tempest's utils.requires_ext and
 * is_extension_enabled gate tests on [network-feature-enabled] api_extensions), and the external network that
 * `stratus up` makes (`public`, for [network] public_network_id and floating_network_name).
 */
async function prepareNetwork(authUrl, admin) {
  const { token, endpoints } = await adminSession(authUrl, admin);
  if (!endpoints.network) throw new SetupError("The catalog has no public network endpoint");
  const get = async (path) => {
    const url = `${endpoints.network}/v2.0/${path}`;
    const res = await fetch(url, { headers: { "x-auth-token": token } });
    if (res.status !== 200)
      throw new SetupError(`GET ${url} answered ${res.status}: ${(await res.text()).slice(0, 500)}`);
    return res.json();
  };
  const extensions = (await get("extensions")).extensions.map((e) => e.alias).sort();
  const external = (await get("networks?router:external=true")).networks;
  const pub = external.find((n) => n.name === PUBLIC_NETWORK) ?? external[0];
  if (!pub) throw new SetupError(`The network service has no external network (${PUBLIC_NETWORK})`);
  step(`Network: public network ${pub.name} (${pub.id}), ${extensions.length} API extensions`);
  return { extensions, publicNetworkId: pub.id, publicNetworkName: pub.name };
}

/** The [network] and [network-feature-enabled] sections for a cloud whose network service prepareNetwork read. */
function networkSections(network) {
  return {
    network: {
      catalog_type: "network",
      endpoint_type: "public",
      region: "RegionOne",
      public_network_id: network.publicNetworkId,
      floating_network_name: network.publicNetworkName,
      // Outside the demo network (10.0.0.0/26) and the public one, as devstack's defaults.
      project_network_cidr: "10.100.0.0/16",
      project_network_mask_bits: 28,
      project_networks_reachable: false,
      build_timeout: 60,
    },
    "network-feature-enabled": {
      ...NETWORK_FEATURES,
      api_extensions: network.extensions.join(","),
    },
  };
}

function tempestConf({
  ws,
  authUrl,
  admin,
  securityCompliance,
  httpImageUrl,
  compute,
  network,
  isolatedNetworks,
  guests,
  multiBackend,
}) {
  const sections = {
    DEFAULT: { log_dir: ws, log_file: "tempest.log", debug: true },
    auth: {
      use_dynamic_credentials: true,
      admin_username: admin.username,
      admin_password: admin.password,
      admin_project_name: admin.project_name,
      admin_domain_name: admin.user_domain_name ?? "Default",
      admin_user_domain_name: admin.user_domain_name ?? "Default",
      admin_project_domain_name: admin.project_domain_name ?? "Default",
      default_credentials_domain_name: "Default",
      // Off by default: servers boot without networks (see docs/tempest-compute.md for what that leaves failing).
      create_isolated_networks: Boolean(isolatedNetworks && network),
    },
    identity: {
      uri_v3: authUrl,
      auth_version: "v3",
      region: "RegionOne",
      v3_endpoint_type: "public",
      catalog_type: "identity",
      admin_role: "admin",
      default_domain_id: "default",
      disable_ssl_certificate_validation: true,
      user_lockout_failure_attempts: SECURITY_COMPLIANCE.lockoutFailureAttempts,
      user_lockout_duration: SECURITY_COMPLIANCE.lockoutDuration,
      user_unique_last_password_count: SECURITY_COMPLIANCE.uniqueLastPasswordCount,
    },
    "identity-feature-enabled": { ...IDENTITY_FEATURES, security_compliance: securityCompliance },
    image: {
      catalog_type: "image",
      endpoint_type: "public",
      region: "RegionOne",
      container_formats: IMAGE_FORMATS.container_formats.join(","),
      disk_formats: IMAGE_FORMATS.disk_formats.join(","),
      build_timeout: 60,
      // tempest's default is a cirros tarball on the internet; the harness serves one locally when it can.
      ...(httpImageUrl ? { http_image: httpImageUrl } : {}),
    },
    "image-feature-enabled": IMAGE_FEATURES,
    ...(compute
      ? {
          compute: {
            catalog_type: "compute",
            endpoint_type: "public",
            region: "RegionOne",
            image_ref: compute.imageRef,
            image_ref_alt: compute.imageRefAlt,
            flavor_ref: COMPUTE_FLAVORS.ref,
            flavor_ref_alt: COMPUTE_FLAVORS.alt,
            min_microversion: COMPUTE_MICROVERSIONS.min,
            max_microversion: COMPUTE_MICROVERSIONS.max,
            min_compute_nodes: compute.hosts,
            // Shelve offloads at once (Nova's shelved_offload_time 0).
            shelved_offload_time: 0,
            build_interval: 1,
            build_timeout: 120,
          },
          "compute-feature-enabled": COMPUTE_FEATURES,
        }
      : {}),
    ...(network ? networkSections(network) : {}),
    volume: {
      catalog_type: "volumev3",
      endpoint_type: "public",
      region: "RegionOne",
      min_microversion: VOLUME_MICROVERSIONS.min,
      max_microversion: VOLUME_MICROVERSIONS.max,
      ...VOLUME_BACKEND,
      ...(multiBackend ? { backend_names: VOLUME_BACKENDS.map((b) => b.name).join(",") } : {}),
      // Volumes are sparse qcow2 files; 1 GiB (tempest's default, the smallest) costs no space.
      volume_size: 1,
      volume_size_extend: 1,
      disk_format: "raw",
      build_interval: 1,
      build_timeout: 120,
    },
    "volume-feature-enabled": { ...VOLUME_FEATURES, multi_backend: Boolean(multiBackend) },
    "object-storage": {
      catalog_type: "object-store",
      endpoint_type: "public",
      region: "RegionOne",
      operator_role: "member",
      reseller_admin_role: "ResellerAdmin",
      realm_name: "realm1",
      cluster_name: "name1",
      container_sync_timeout: 120,
      container_sync_interval: 2,
    },
    // tempest gates middleware tests on discoverable_apis (not on /info): the features Stratus's /info lists.
    "object-storage-feature-enabled": {
      discoverability: true,
      discoverable_apis: OBJECT_APIS.join(","),
      container_sync: true,
      object_versioning: true,
    },
    service_available: AVAILABLE,
    dashboard: {
      dashboard_url: `${new URL(authUrl).origin}/`,
      login_url: `${new URL(authUrl).origin}/auth/login/`,
    },
    enforce_scope: { keystone: false, nova: false, neutron: false, glance: false, cinder: false },
    validation: { run_validation: false },
    "service-clients": { http_timeout: 60 },
  };
  // The scenario suite's changes, section by section, over the API suites' settings.
  if (guests && compute)
    for (const [name, opts] of Object.entries(scenarioSections(compute)))
      sections[name] = { ...sections[name], ...opts };
  const lines = ["# Written by scripts/tempest.mjs for Stratus; rewritten on every run."];
  for (const [name, opts] of Object.entries(sections)) {
    lines.push("", `[${name}]`);
    for (const [k, v] of Object.entries(opts))
      lines.push(`${k} = ${typeof v === "boolean" ? (v ? "True" : "False") : v}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * What the scenario suite changes in tempest.conf: every test project gets a network with a router to the public
 * one (for floating IPs); servers boot the guest image with a small flavor; tempest validates them over SSH to a
 * floating IP (keypair auth as cirros), with timeouts for TCG; the scenario image uploads are the guest's disk.
 */
function scenarioSections(compute) {
  const t = SCENARIO_TIMEOUTS;
  return {
    auth: { create_isolated_networks: true },
    compute: {
      flavor_ref: SCENARIO_GUEST.flavors.ref,
      flavor_ref_alt: SCENARIO_GUEST.flavors.alt,
      build_interval: 2,
      build_timeout: t.build,
      // The second disk of a guest booted from an image: the attached volume (virtio-blk, in attach order).
      volume_device_name: "vdb",
    },
    "compute-feature-enabled": SCENARIO_COMPUTE_FEATURES,
    network: { build_interval: 2, build_timeout: t.build },
    volume: { build_interval: 2, build_timeout: t.build },
    validation: {
      run_validation: true,
      connect_method: "floating",
      auth_method: "keypair",
      ip_version_for_ssh: 4,
      image_ssh_user: SCENARIO_GUEST.user,
      image_ssh_password: SCENARIO_GUEST.password,
      image_alt_ssh_user: SCENARIO_GUEST.user,
      image_alt_ssh_password: SCENARIO_GUEST.password,
      ssh_timeout: t.ssh,
      connect_timeout: t.connect,
      ping_timeout: t.ping,
    },
    scenario: {
      img_file: compute.imgFile,
      img_disk_format: "qcow2",
      img_container_format: "bare",
      // busybox's DHCP client (test_subnet_details renews the lease with it).
      dhcp_client: "udhcpc",
    },
  };
}

/** Run a command, copying its stdout and stderr both to ours and to a log file; resolves with its exit code. */
function tee(cmd, args, logPath) {
  return new Promise((res, rej) => {
    const log = createWriteStream(logPath);
    const child = spawn(cmd, args, { env: pyEnv(), stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d) => (process.stdout.write(d), log.write(d)));
    child.stderr.on("data", (d) => (process.stderr.write(d), log.write(d)));
    child.on("error", rej);
    child.on("close", (code, signal) => log.end(() => res(code ?? (signal ? 128 : 1))));
  });
}

/** The last run's results from the workspace's stestr repository, or null when there are none. */
function collectResults(ws) {
  const last = spawnSync(STESTR, ["last", "--subunit"], { cwd: ws, env: pyEnv(), maxBuffer: 1 << 30 });
  if (last.status !== 0 || last.stdout.length === 0) return null;
  const parsed = spawnSync("/usr/bin/python3", [join(ROOT, "scripts", "lib", "subunit-summary.py")], {
    input: last.stdout,
    env: pyEnv(),
    maxBuffer: 1 << 30,
    encoding: "utf8",
  });
  if (parsed.status !== 0) throw new SetupError(`Reading the subunit results failed:\n${parsed.stderr}`);
  writeFileSync(join(ws, "results.jsonl"), parsed.stdout);
  return parsed.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/**
 * Each failed test's own log (its HTTP requests and responses, which stestr keeps with the result) into
 * failed/TEST.log. tempest.log has them too, but its workers share the file and interleave.
 */
const FAILED_LOGS_PY = `
import os, re, sys, subunit, testtools
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
def on_test(t):
    if t["status"] not in ("fail", "uxsuccess"):
        return
    c = (t.get("details") or {}).get("pythonlogging:''")
    if c is None:
        return
    name = re.sub(r"[^\\w.()-]", "_", re.sub(r"\\[[^\\]]*\\]$", "", t["id"]))[:200]
    with open(os.path.join(out, name + ".log"), "w") as f:
        f.write(c.as_text())
stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
result = testtools.StreamToDict(on_test)
result.startTestRun()
stream.run(result)
result.stopTestRun()
`;

function saveFailedTestLogs(ws) {
  const dir = join(ws, "failed");
  rmSync(dir, { recursive: true, force: true });
  const last = spawnSync(STESTR, ["last", "--subunit"], { cwd: ws, env: pyEnv(), maxBuffer: 1 << 30 });
  if (last.status !== 0) return;
  spawnSync("/usr/bin/python3", ["-c", FAILED_LOGS_PY, dir], { input: last.stdout, env: pyEnv() });
}

/** A failure reason with the per-run values (ids, generated names and numbers) masked, to group failures by. */
const reasonKey = (why) =>
  why
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/\b[0-9a-f]{32}\b/g, "<id>")
    .replace(/tempest-[\w-]*?-\d{5,}/g, "tempest-<name>")
    .replace(/0x[0-9a-f]+/g, "0x…")
    .replace(/\b\d{6,}\b/g, "<n>");

/** A test id without tempest's [id-...,smoke] attributes. */
const shortId = (id) => id.replace(/\[[^\]]*\]$/, "");

/** The line of a traceback that says what went wrong: the last exception line, with the HTTP details kept short. */
function reasonOf(r) {
  const tb = (r.traceback ?? r.reason ?? "").trim();
  if (!tb) return r.status;
  const lines = tb.split("\n").map((l) => l.trim());
  // Tempest puts the response on lines after the exception ("Details: {...}"): keep them with it.
  let i = lines.length - 1;
  while (
    i > 0 &&
    !/^[\w.]+(Error|Exception|Failure|Conflict|NotFound|Forbidden|BadRequest|Unauthorized|Timeout|Mismatch|[A-Z]\w+):/.test(
      lines[i],
    )
  )
    i--;
  let msg = lines.slice(i).filter(Boolean).join(" ");
  if (msg.length > 300) msg = `${msg.slice(0, 297)}...`;
  // Which API call failed: the innermost frame in one of tempest's service clients.
  const frames = [...tb.matchAll(/tempest\/lib\/services\/(\S+?)\.py", line \d+, in (\w+)/g)];
  const call = frames.at(-1);
  return call ? `${msg} [${call[1].replace(/\//g, ".")}.${call[2]}]` : msg;
}

function report({ results, ws, service, secs, code, stopped }) {
  const by = (...st) => results.filter((r) => st.includes(r.status));
  const passed = by("success", "xfail");
  const failed = by("fail", "uxsuccess");
  const skipped = by("skip");
  const out = [];
  out.push("", `==> tempest ${service}: ${results.length} tests in ${secs} s (workspace ${ws})`);
  if (failed.length) {
    // Grouped by reason: one broken call (say, in credential setup) often fails whole classes the same way.
    const groups = new Map();
    for (const r of failed.sort((a, b) => a.id.localeCompare(b.id))) {
      const why = reasonKey(reasonOf(r));
      groups.set(why, [...(groups.get(why) ?? []), shortId(r.id)]);
    }
    out.push(`Failed (${failed.length}), by reason:`);
    for (const [why, ids] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
      out.push(`  ${ids.length > 1 ? `[${ids.length} tests] ` : ""}${why}`);
      for (const id of ids) out.push(`      ${id}`);
    }
    writeFileSync(
      join(ws, "failures.txt"),
      failed.map((r) => `=== ${r.id}\n${r.traceback ?? r.reason ?? r.status}\n`).join("\n"),
    );
    out.push(
      `Full tracebacks: ${join(ws, "failures.txt")}; each failed test's HTTP log: ${join(ws, "failed")}/TEST.log`,
    );
  }
  if (skipped.length) {
    const reasons = new Map();
    for (const r of skipped) {
      const why = reasonKey(r.reason ?? "?");
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    out.push(`Skipped (${skipped.length}), by reason:`);
    for (const [why, n] of [...reasons].sort((a, b) => b[1] - a[1]))
      out.push(`  ${String(n).padStart(4)}  ${why}`);
  }
  if (stopped && (stopped.code !== 0 || stopped.signal))
    out.push(
      `Stratus did not stop cleanly: exit ${stopped.code ?? stopped.signal} (see ${join(ws, "stratus.log")})`,
    );
  out.push(`tempest: ${passed.length} passed, ${failed.length} failed, ${skipped.length} skipped`);
  process.stdout.write(`${out.join("\n")}\n`);
  return failed.length || code !== 0 ? 1 : 0;
}
