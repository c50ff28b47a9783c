// A cloud without in-process compute agents, a ComputeCore wired to its placement API, and helpers that register
// compute hosts by hand (service and node rows, resource provider and inventory) for the scheduler's tests.
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCloud, type Cloud } from "../../../src/cloud/start.js";
import { ComputeCore } from "../../../src/compute/core.js";
import { PlacementClient } from "../../../src/compute/placement-client.js";
import { Scheduler } from "../../../src/compute/scheduler/scheduler.js";
import { createBus, type Bus } from "../../../src/shared/bus/index.js";
import { injectClient } from "../../../src/shared/client/service-client.js";
import { loadConfig, type Config } from "../../../src/shared/config.js";

/** One compute host to register. */
export interface HostSpec {
  vcpus?: number;
  memoryMb?: number;
  diskGb?: number;
  disabled?: boolean;
  forcedDown?: boolean;
  /** Heartbeat age in seconds (default 0: up). */
  heartbeatAge?: number;
  az?: string;
}

/** The harness the integration tests use. */
export interface Harness {
  cloud: Cloud;
  core: ComputeCore;
  placement: PlacementClient;
  token: string;
  /** Register a host; returns its node (= resource provider) uuid. */
  addHost(name: string, spec?: HostSpec): Promise<string>;
  /** Remove every compute host, aggregate and resource provider. */
  reset(): Promise<void>;
  /** A scheduler over `core` (or over a core using another placement client). */
  scheduler(placement?: PlacementClient): Scheduler;
  /** GET /placement/allocations/{consumer} → allocations by provider. */
  allocations(consumer: string): Promise<Record<string, { resources: Record<string, number> }>>;
  close(): Promise<void>;
}

const now = () => new Date().toISOString();
const MV = { "openstack-api-version": "placement 1.39" };

/** Boot a cloud with `compute.hosts: 0` and wire a ComputeCore to its placement API with an admin token. */
export async function bootHarness(): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "stratus-sched-"));
  const cfg = loadConfig(
    {
      dataDir,
      port: 0,
      logLevel: "silent",
      identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
      compute: { hosts: 0 },
    } as unknown as Partial<Config>,
    {},
  );
  const cloud = await startCloud(cfg, { listen: false });
  const auth = await cloud.app.inject({
    method: "POST",
    url: "/identity/v3/auth/tokens?nocatalog",
    payload: {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "admin", domain: { id: "default" }, password: cloud.adminPassword } },
        },
        scope: { project: { name: "admin", domain: { id: "default" } } },
      },
    },
  });
  const token = auth.headers["x-subject-token"] as string;
  const placementHttp = injectClient(
    () => cloud.app,
    "/placement",
    async () => token,
  );
  const placement = new PlacementClient(placementHttp);
  const core = new ComputeCore(cloud.db.kysely, cloud.log, cfg);
  const bus: Bus = await createBus("memory", cloud.log);
  core.connect(bus, {
    placement,
    image: injectClient(
      () => cloud.app,
      "/image",
      async () => token,
    ),
  });
  const db = core.db;

  const addHost = async (name: string, spec: HostSpec = {}): Promise<string> => {
    const uuid = randomUUID();
    const { vcpus = 8, memoryMb = 16384, diskGb = 200 } = spec;
    await db
      .insertInto("compute_service")
      .values({
        uuid: randomUUID(),
        host: name,
        binary: "nova-compute",
        topic: "compute",
        report_count: 1,
        disabled: spec.disabled ? 1 : 0,
        forced_down: spec.forcedDown ? 1 : 0,
        last_seen_up_ms: Date.now() - (spec.heartbeatAge ?? 0) * 1000,
        version: 1,
        created_at: now(),
      })
      .execute();
    await db
      .insertInto("compute_node")
      .values({
        uuid,
        host: name,
        hypervisor_hostname: name,
        hypervisor_type: "fake",
        hypervisor_version: 1_000_000,
        vcpus,
        memory_mb: memoryMb,
        local_gb: diskGb,
        cpu_info: JSON.stringify({ arch: "x86_64", model: "fake", vendor: "fake", features: [] }),
        created_at: now(),
      })
      .execute();
    await placement.ensureProvider(uuid, name);
    await placement.setInventory(uuid, {
      VCPU: { total: vcpus, allocation_ratio: 1 },
      MEMORY_MB: { total: memoryMb, allocation_ratio: 1 },
      DISK_GB: { total: diskGb, allocation_ratio: 1 },
    });
    if (spec.az) {
      const aggUuid = randomUUID();
      await db
        .insertInto("compute_aggregate")
        .values({ uuid: aggUuid, name: `agg-${name}`, created_at: now() })
        .execute();
      const agg = await db
        .selectFrom("compute_aggregate")
        .select("id")
        .where("uuid", "=", aggUuid)
        .executeTakeFirstOrThrow();
      await db.insertInto("compute_aggregate_host").values({ aggregate_id: agg.id, host: name }).execute();
      await db
        .insertInto("compute_aggregate_metadata")
        .values({ aggregate_id: agg.id, meta_key: "availability_zone", value: spec.az })
        .execute();
    }
    return uuid;
  };

  const reset = async () => {
    for (const n of await db.selectFrom("compute_node").select("uuid").execute()) {
      const rp = String(n.uuid);
      const held = await placementHttp.request("GET", `/resource_providers/${rp}/allocations`, {
        headers: MV,
      });
      for (const consumer of Object.keys(held.body?.allocations ?? {}))
        await placement.deleteAllocations(consumer);
      await placement.deleteProvider(rp);
    }
    for (const t of [
      "compute_node",
      "compute_service",
      "compute_aggregate_metadata",
      "compute_aggregate_host",
      "compute_aggregate",
      "compute_instance",
    ])
      await db.deleteFrom(t).execute();
  };

  return {
    cloud,
    core,
    placement,
    token,
    addHost,
    reset,
    scheduler(other?: PlacementClient) {
      if (!other) return new Scheduler(core);
      const c = new ComputeCore(cloud.db.kysely, cloud.log, cfg);
      c.connect(bus, { placement: other, image: core.image });
      return new Scheduler(c);
    },
    async allocations(consumer) {
      const r = await placementHttp.request("GET", `/allocations/${consumer}`, { headers: MV });
      const out: Record<string, { resources: Record<string, number> }> = {};
      for (const [rp, a] of Object.entries(r.body.allocations ?? {}))
        out[rp] = { resources: (a as { resources: Record<string, number> }).resources };
      return out;
    },
    async close() {
      await bus.close();
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
