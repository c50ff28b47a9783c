// Loads HostStates from the compute tables in a handful of batched queries: nodes, their services, aggregates with
// metadata, and the live instances on each host.
import type { Kysely } from "kysely";
import type { Config } from "../../shared/config.js";
import { parseService, serviceIsUp, type ServiceRow } from "../servicegroup.js";
import type { HostState } from "./types.js";

const BATCH = 500;

async function batched<T>(keys: Array<string | number>, run: (part: any[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < keys.length; i += BATCH) out.push(...(await run(keys.slice(i, i + BATCH))));
  return out;
}

function parseCpuInfo(raw: unknown): HostState["cpuInfo"] {
  let v: Record<string, unknown> = {};
  try {
    v = typeof raw === "string" ? JSON.parse(raw) : ((raw as Record<string, unknown>) ?? {});
  } catch {
    v = {};
  }
  return {
    arch: String(v.arch ?? ""),
    model: String(v.model ?? ""),
    vendor: String(v.vendor ?? ""),
    features: Array.isArray(v.features) ? v.features.map(String) : [],
  };
}

/** The compute hosts of the cloud: states for hosts with a node, and hosts whose service has no node yet. */
export interface LoadedHosts {
  states: HostState[];
  /** nova-compute services with no compute node (they have not reported resources). */
  withoutNode: ServiceRow[];
}

/**
 * HostStates for the compute nodes with these uuids (every node when omitted). Usage comes from the node rows;
 * the scheduler overwrites it with placement's figures for candidates.
 */
export async function loadHostStates(
  db: Kysely<any>,
  cfg: Config,
  nodeUuids?: string[],
  /** Instances whose host matters (group members, hinted uuids); others are only counted. */
  relevant: string[] = [],
): Promise<LoadedHosts> {
  const nodes = nodeUuids
    ? await batched(nodeUuids, (part) =>
        db.selectFrom("compute_node").selectAll().where("uuid", "in", part).execute(),
      )
    : await db.selectFrom("compute_node").selectAll().execute();
  const hosts = [...new Set(nodes.map((n) => String(n.host)))];
  const serviceQuery = () =>
    db.selectFrom("compute_service").selectAll().where("binary", "=", "nova-compute");
  const services = (
    nodeUuids
      ? await batched(hosts, (part) => serviceQuery().where("host", "in", part).execute())
      : await serviceQuery().execute()
  ).map(parseService);
  const aggRows = await batched(hosts, (part) =>
    db
      .selectFrom("compute_aggregate_host as h")
      .innerJoin("compute_aggregate as a", "a.id", "h.aggregate_id")
      .select(["a.id as id", "a.uuid as uuid", "a.name as name", "h.host as host"])
      .where("h.host", "in", part)
      .orderBy("a.id")
      .execute(),
  );
  const aggIds = [...new Set(aggRows.map((r) => Number(r.id)))];
  const metaRows = await batched(aggIds, (part) =>
    db.selectFrom("compute_aggregate_metadata").selectAll().where("aggregate_id", "in", part).execute(),
  );
  const instRows = await batched(relevant, (part) =>
    db
      .selectFrom("compute_instance")
      .select(["uuid", "host"])
      .where("deleted", "=", 0)
      .where("uuid", "in", part)
      .execute(),
  );
  const counts = await batched(hosts, (part) =>
    db
      .selectFrom("compute_instance")
      .select((eb) => ["host", eb.fn.countAll().as("n")])
      .where("deleted", "=", 0)
      .where("host", "in", part)
      .groupBy("host")
      .execute(),
  );
  const countByHost = new Map(counts.map((r) => [String(r.host), Number(r.n)]));

  type MetaRow = { meta_key: unknown; value: unknown };
  const rowsByAgg = new Map<number, MetaRow[]>();
  for (const m of metaRows as Array<MetaRow & { aggregate_id: unknown }>)
    rowsByAgg.set(Number(m.aggregate_id), [...(rowsByAgg.get(Number(m.aggregate_id)) ?? []), m]);
  const metadata = new Map([...rowsByAgg].map(([id, rows]) => [id, aggregateMetadata(rows)]));
  const aggsByHost = new Map<string, HostState["aggregates"]>();
  for (const r of aggRows) {
    const list = aggsByHost.get(String(r.host)) ?? [];
    list.push({ uuid: String(r.uuid), name: String(r.name), metadata: metadata.get(Number(r.id)) ?? {} });
    aggsByHost.set(String(r.host), list);
  }
  const instancesByHost = new Map<string, Set<string>>();
  for (const r of instRows) {
    const set = instancesByHost.get(String(r.host)) ?? new Set<string>();
    set.add(String(r.uuid));
    instancesByHost.set(String(r.host), set);
  }
  const serviceByHost = new Map(services.map((s) => [s.host, s]));
  const now = Date.now();

  const states = nodes.map((n): HostState => {
    const host = String(n.host);
    const svc = serviceByHost.get(host);
    const aggregates = aggsByHost.get(host) ?? [];
    const az = aggregates.find((a) => Object.hasOwn(a.metadata, "availability_zone"))?.metadata
      .availability_zone;
    return {
      host,
      node: String(n.hypervisor_hostname),
      nodeUuid: String(n.uuid),
      enabled: svc ? !svc.disabled : true,
      up: svc ? serviceIsUp(svc, cfg, now) : false,
      availabilityZone: az ?? cfg.compute.defaultAvailabilityZone,
      aggregates,
      vcpusTotal: Number(n.vcpus),
      vcpusUsed: Number(n.vcpus_used),
      memoryMbTotal: Number(n.memory_mb),
      memoryMbUsed: Number(n.memory_mb_used),
      diskGbTotal: Number(n.local_gb),
      diskGbUsed: Number(n.local_gb_used),
      hypervisorType: String(n.hypervisor_type),
      hypervisorVersion: Number(n.hypervisor_version),
      cpuInfo: parseCpuInfo(n.cpu_info),
      instances: instancesByHost.get(host) ?? new Set(),
      numInstances: countByHost.get(host) ?? 0,
    };
  });
  const nodeHosts = new Set(hosts);
  return { states, withoutNode: services.filter((s) => !nodeHosts.has(s.host)) };
}

/** Instance uuids of a server group's members. */
export async function loadGroupMembers(db: Kysely<any>, groupUuid: string): Promise<string[]> {
  const rows = await db
    .selectFrom("compute_server_group_member")
    .select("instance_uuid")
    .where("group_uuid", "=", groupUuid)
    .execute();
  return rows.map((r) => String(r.instance_uuid));
}

/**
 * An aggregate's metadata rows as an object whose keys are all own properties (fromEntries defines "__proto__" as
 * a plain key, where assignment would drop it); keys are the operator's: read them with own-property checks.
 */
export function aggregateMetadata(
  rows: Array<{ meta_key: unknown; value: unknown }>,
): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [String(r.meta_key), String(r.value)]));
}
