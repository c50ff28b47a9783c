import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { CachingValidator } from "../shared/auth/cache.js";
import { databaseUrl, publicBaseUrl, type Config } from "../shared/config.js";
import { migrate, openDatabase, type Database } from "../shared/db/index.js";
import { buildHttpServer } from "../shared/http/server.js";
import type { ServiceApi } from "../shared/http/service.js";
import { createLogger } from "../shared/log.js";
import { Metrics } from "../shared/metrics.js";
import { PolicyEnforcer } from "../shared/policy/index.js";
import { basePolicies, identityPolicies } from "../identity/api/policy.js";
import { personaPolicies } from "../shared/policy/personas.js";
import { bootstrap } from "../identity/bootstrap.js";
import { IdentityService } from "../identity/service.js";
import { imagePolicies } from "../image/api/policy.js";
import { ImageService } from "../image/service.js";
import { PlacementService, placementPolicies } from "../placement/service.js";
import { ComputeService, computePolicies } from "../compute/service.js";
import { defaultHostName, startComputeControl, type ComputeControl } from "../compute/control.js";
import { NetworkService, networkPolicies } from "../network/service.js";
import { ObjectService, objectPolicies, s3Api } from "../object/service.js";
import { VolumeService, volumePolicies } from "../volume/service.js";
import { injectSwift } from "../volume/backup/inject.js";
import { injectImageReader } from "../volume/images.js";
import { injectImageWriter } from "../volume/image-writer.js";
import { findProjectByName } from "../identity/store/projects.js";
import { DEFAULT_DOMAIN_ID } from "../identity/core.js";
import { startMetadata, type RunningMetadata } from "../compute/metadata/start.js";
import { metadataProvider, serviceImageSource } from "../compute/qemu-host.js";
import { NetworkClient } from "../compute/network-client.js";
import { VolumeClient } from "../compute/volume-client.js";
import { registerGuestImage, type RegisteredGuestImage } from "./guest-image.js";
import { PlacementClient } from "../compute/placement-client.js";
import { createBus, type Bus } from "../shared/bus/index.js";
import { injectClient, passwordTokenSource } from "../shared/client/service-client.js";
import { injectStreamClient } from "../shared/client/stream-client.js";
import { writeClientFiles } from "./clouds-yaml.js";
import { mountDashboard } from "../dashboard/assets.js";
import { missingDashboardPage } from "../dashboard/landing.js";
import { horizonIndex, mountHorizonLogin } from "../dashboard/horizon-login.js";
import { mountNoVnc } from "../compute/consoles/novnc.js";
import { attachConsoleProxy } from "../compute/consoles/proxy.js";
import { pluginMigrations } from "../plugins/kv.js";
import { loadPlugins, type LoadedPlugin } from "../plugins/load.js";
import { mountPlugins } from "../plugins/mount.js";
import { mountPanels } from "../plugins/panels.js";

/** A running all-in-one cloud. */
export interface Cloud {
  cfg: Config;
  /** Public base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  app: FastifyInstance;
  db: Database;
  identity: IdentityService;
  image: ImageService;
  compute: ComputeService;
  network: NetworkService;
  object: ObjectService;
  volume: VolumeService;
  /** The conductor, scheduler and in-process compute agents. */
  computeControl: ComputeControl;
  /** The metadata service on its own loopback listener (guests reach it through the metadata proxy). */
  metadata: RunningMetadata;
  /** The built-in guest image, when the qemu driver registered it. */
  guestImage?: RegisteredGuestImage;
  bus: Bus;
  policy: PolicyEnforcer;
  /** Ports of the services also served on their own listener (--listen NAME=PORT), port 0 resolved. */
  listenerPorts: ReadonlyMap<string, number>;
  /** The services mounted on the shared listener (their route tables). */
  services: ServiceApi[];
  /** The plugins loaded at start-up (docs/plugins.md). */
  plugins: LoadedPlugin[];
  log: Logger;
  adminPassword: string;
  demoPassword: string;
  cloudsYaml: string;
  close(): Promise<void>;
}

/** Start every service in one process: DB, identity, shared HTTP listener, bootstrap, client files. */
export async function startCloud(
  cfg: Config,
  opts: { log?: Logger; listen?: boolean; onProgress?: (msg: string) => void } = {},
): Promise<Cloud> {
  const progress = opts.onProgress ?? (() => {});
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  rmSync(join(cfg.dataDir, "clouds.yaml"), { force: true });
  const log = opts.log ?? createLogger(cfg.logLevel, cfg.logFile);
  // What is open so far, closed in reverse when the start fails part way (a failed start leaves nothing running).
  const undo: Array<() => unknown> = [];
  try {
    // Plugins are checked first: a broken one stops the start before anything is opened.
    const plugins = await loadPlugins(cfg, { db: () => db.kysely, log });
    if (plugins.length) progress(`plugins: ${plugins.map((p) => p.manifest.name).join(", ")}`);
    progress("opening database");
    const db = await openDatabase(databaseUrl(cfg));
    undo.push(() => db.close());
    progress("migrating identity");
    const identity = await IdentityService.start(db, cfg, log);
    undo.push(() => identity.close());
    progress("migrating image");
    const image = await ImageService.start(db, cfg, log);
    progress("migrating placement");
    const placement = await PlacementService.start(db, cfg, log);
    progress("migrating compute");
    const compute = await ComputeService.start(db, cfg, log);
    progress("migrating network");
    const network = await NetworkService.start(db, cfg, log);
    undo.push(() => network.close());
    progress("migrating object storage");
    const object = await ObjectService.start(db, cfg, log);
    undo.push(() => object.close());
    progress("migrating block storage");
    const volume = await VolumeService.start(db, cfg, log);
    undo.push(() => volume.close());
    const policy = new PolicyEnforcer(
      [
        ...personaPolicies(cfg.policy.defaults),
        ...basePolicies,
        ...identityPolicies,
        ...imagePolicies,
        ...placementPolicies,
        ...computePolicies,
        ...networkPolicies,
        ...objectPolicies,
        ...volumePolicies,
      ],
      {
        overrideFile: join(cfg.dataDir, "policy.yaml"),
        enforceScope: cfg.policy.enforceScope,
      },
    );
    const validator = new CachingValidator(identity.validator);
    identity.core.onChange(() => validator.invalidate());
    const metrics = new Metrics();
    const services = [
      identity.api(),
      image.api(),
      placement.api(),
      compute.api(),
      network.api(),
      object.api(),
      s3Api(object),
      volume.api(),
    ];
    if (plugins.length) {
      await migrate(db, "plugin", pluginMigrations);
      const prefixes = new Map(services.map((s) => [s.name, s.prefix]));
      mountPlugins(plugins, services, policy, (svc) =>
        injectClient(() => app, prefixes.get(svc) ?? `/${svc}`),
      );
    }
    const app = await buildHttpServer(services, {
      validator,
      policy,
      log,
      metrics,
      extra: (root) => {
        root.get("/metrics", async (_req, rep) =>
          rep.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics()),
        );
        root.get("/healthcheck", async () => "OK");
        if (cfg.compute.consoles.vnc) mountNoVnc(root);
        const horizon = { app: () => root, region: cfg.region };
        mountHorizonLogin(root, horizon);
        mountPanels(root, plugins);
        mountDashboard(root, {
          index: (html, req, rep) => horizonIndex(horizon, html, req, rep),
          missing: missingDashboardPage({
            dataDir: cfg.dataDir,
            baseUrl: () => url,
            live: services.map((s) => s.serviceType),
          }),
        });
      },
    });
    // The S3 API sends Swift requests to this listener and has signatures checked by identity's s3tokens.
    object.s3.connect(
      () => app,
      injectClient(() => app, "/identity"),
    );
    identity.core.onChange(() => object.s3.forget());
    undo.push(() => app.close());
    const policyTimer = setInterval(() => {
      try {
        policy.reloadIfChanged();
      } catch (e) {
        log.error({ err: e }, "policy file rejected; keeping the previous rules");
      }
    }, 2000);
    policyTimer.unref();
    undo.push(() => clearInterval(policyTimer));
    let port = cfg.port;
    let url = publicBaseUrl(cfg, port);
    if (opts.listen !== false) {
      progress(`listening on ${cfg.host}:${cfg.port}`);
      await app.listen({ host: cfg.host, port: cfg.port });
      const addr = app.server.address();
      if (addr && typeof addr === "object") port = addr.port;
    } else await app.ready();
    // Console websockets (/vnc, /serial) are upgrades of the public listener, beside fastify's routes.
    const detachConsoles = attachConsoleProxy(app.server, {
      db: compute.core.db,
      publicUrl: () => url,
      allowedOrigins: cfg.compute.consoles.allowedOrigins,
      log,
    });
    undo.push(detachConsoles);
    const extraApps: FastifyInstance[] = [];
    const listenerPorts = new Map<string, number>();
    for (const [name, svcPort] of Object.entries(cfg.listeners)) {
      const svc = services.find((s) => s.name === name);
      if (!svc)
        throw new Error(
          `listeners: unknown service "${name}" (known: ${services.map((s) => s.name).join(", ")})`,
        );
      const own = await buildHttpServer([{ ...svc, prefix: "" }], { validator, policy, log, metrics });
      await own.listen({ host: cfg.host, port: svcPort });
      extraApps.push(own);
      undo.push(() => own.close());
      const a = own.server.address();
      const actual = a && typeof a === "object" ? a.port : svcPort;
      listenerPorts.set(name, actual);
      progress(`${name} also listening on ${cfg.host}:${actual}`);
    }
    url = publicBaseUrl(cfg, port);
    // Container sync reaches realm clusters given as paths (this cloud) on the listener itself.
    object.listening(publicBaseUrl({ ...cfg, publicUrl: undefined }, port));
    progress("bootstrapping identity");
    const creds = await bootstrap(
      identity,
      url,
      services.map((s) => s.serviceType),
    );
    progress("starting the compute conductor and agents");
    const bus = await createBus(cfg.bus, log);
    undo.push(() => bus.close());
    // Revocations recorded by any API process clear every process's validation caches.
    await identity.listen(bus, `api-${randomUUID().slice(0, 8)}`);
    const token = passwordTokenSource(
      injectClient(() => app, "/identity"),
      {
        user: "nova",
        password: creds.servicePassword,
        project: "service",
      },
    );
    // The cloud admin's token: qemu hosts download any project's images with it (the image policy's admin check is
    // context_is_admin, which the service user does not pass), and public images are the admin's to make
    // (publicize_image), as devstack uploads CirrOS as admin.
    const adminToken = passwordTokenSource(
      injectClient(() => app, "/identity"),
      {
        user: "admin",
        password: creds.adminPassword,
        project: "admin",
      },
    );
    const systemAdminToken = passwordTokenSource(
      injectClient(() => app, "/identity"),
      {
        user: "admin",
        password: creds.adminPassword,
        project: "admin",
        system: true,
      },
    );
    // Compute's network client acts as the nova service user, as Nova does with Neutron: the network policy's
    // service_api rule (role service) lets it put a server's ports on its project's networks, bind them to hosts and
    // delete them; what a user asked for is checked with the user's own token first.
    compute.core.connect(bus, {
      placement: new PlacementClient(injectClient(() => app, "/placement", token)),
      image: injectClient(() => app, "/image"),
      network: injectClient(() => app, "/networking"),
      neutron: new NetworkClient(injectClient(() => app, "/networking", token)),
      // As the system admin: any project's volumes, and boot volumes made in the server's project (a system-scoped
      // token has no project for Cinder to hold the URL's against, so the URL's project owns what is created).
      volume: new VolumeClient(injectClient(() => app, "/volume", systemAdminToken)),
    });
    // The network service tells compute about its servers' ports (network-vif-plugged, network-changed) as the
    // service user, whose service role the external events policy admits.
    network.core.computeEvents.connect(injectClient(() => app, "/compute", token));
    // Block storage tells compute about grown attached volumes (volume-extended) the same way, and reads images for
    // volumes made from one with the cloud admin's token (any project's image the caller may name).
    volume.core.computeEvents.connect(injectClient(() => app, "/compute", token));
    volume.core.images = injectImageReader(() => app, adminToken);
    volume.core.imageWriter = injectImageWriter(() => app, adminToken);
    // The image service's swift store writes the service project's account as the service user (single-tenant, as
    // Glance's swift store with its glance user).
    image.connectObjectStore(
      injectStreamClient(() => app, "/object-store/v1", token),
      (await findProjectByName(identity.core, "service", DEFAULT_DOMAIN_ID))?.id ?? "",
    );
    // Backups go to each project's Swift account through the object API, as the service user (ResellerAdmin).
    volume.core.swift = injectSwift(() => app, token);
    await volume.connect(
      bus,
      cfg.compute.hostName ?? defaultHostName(),
      cfg.volume.localAgent ? undefined : null,
    );
    // This host's network agent, then the start-up networks (public, and the demo project's private).
    // The metadata service first: qemu guests reach it through their per-instance listeners from their first boot,
    // and the network agent's metadata proxies (linux driver) forward to it.
    const metadata = await startMetadata(cfg, db.kysely, log);
    undo.push(() => metadata.close());
    await network.connect(bus, cfg.compute.hostName ?? defaultHostName(), { metadataTarget: metadata });
    const projectId = async (name: string) =>
      (await findProjectByName(identity.core, name, DEFAULT_DOMAIN_ID))?.id ?? "";
    await network.bootstrap({ admin: await projectId("admin"), demo: await projectId("demo") });
    const computeControl = await startComputeControl(compute.core, bus, {
      images: serviceImageSource(() => url, adminToken),
      metadata: metadataProvider(db.kysely, cfg, metadata),
    });
    undo.push(() => computeControl.close());
    let guestImage: RegisteredGuestImage | undefined;
    if (cfg.compute.driver === "qemu" && (cfg.compute.qemu?.guestImage ?? true) && opts.listen !== false) {
      progress("building and registering the guest image (first run only)");
      guestImage = await registerGuestImage({
        imageUrl: `${url}/image`,
        token: adminToken,
        onProgress: progress,
      }).catch((e: Error) => {
        log.warn({ err: e.message }, "the guest image could not be built or registered");
        progress(`the guest image is not available: ${e.message.split("\n")[0]}`);
        return undefined;
      });
    }
    const cloudsYaml = writeClientFiles({
      dataDir: cfg.dataDir,
      authUrl: `${url}/identity/v3`,
      region: cfg.region,
      ...creds,
    });
    return {
      cfg,
      url,
      app,
      db,
      identity,
      image,
      compute,
      network,
      object,
      volume,
      computeControl,
      metadata,
      guestImage,
      bus,
      policy,
      services,
      plugins,
      listenerPorts,
      log,
      ...creds,
      cloudsYaml,
      async close() {
        clearInterval(policyTimer);
        detachConsoles();
        // Every part is closed even when one fails (the volume daemons must not outlive a stopped cloud).
        const errors = await closeEach([
          () => computeControl.close(),
          // Right after compute (no attach under way then), before what may be slow: its daemons go first.
          () => volume.close(),
          () => network.close(),
          () => object.close(),
          () => metadata.close(),
          () => identity.close(),
          () => bus.close(),
          ...extraApps.map((a) => () => a.close()),
          () => app.close(),
          () => db.close(),
        ]);
        if (errors.length) throw new AggregateError(errors, "the cloud did not close cleanly");
      },
    };
  } catch (e) {
    await closeEach(undo.reverse());
    throw e;
  }
}

/** Run every step in order, each even when one before it failed; the errors. */
async function closeEach(steps: Array<() => unknown>): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const step of steps)
    await Promise.resolve()
      .then(step)
      .catch((e: unknown) => errors.push(e));
  return errors;
}
