// Compute nodes: the conductor turns an agent's resource report into a compute_node row and the matching
// placement resource provider with its inventory (Nova's resource tracker + report client).
import { randomUUID } from "node:crypto";
import { nowIso } from "../../shared/db/index.js";
import type { ComputeCore } from "../core.js";
import type { HostResources } from "../drivers/types.js";

/** Nova's defaults: initial_cpu_allocation_ratio 4.0, ram 1.0, disk 1.0; reserved_host_memory_mb 512. */
const CPU_RATIO = 4;
const RESERVED_MB = 512;

/** Upsert the node of `host` and its placement inventory; returns the node (= provider) uuid. */
export async function reportResources(core: ComputeCore, host: string, r: HostResources): Promise<string> {
  const { db } = core;
  const existing = (await db
    .selectFrom("compute_node")
    .select(["uuid"])
    .where("hypervisor_hostname", "=", r.hypervisorHostname)
    .executeTakeFirst()) as { uuid: string } | undefined;
  const running = (await db
    .selectFrom("compute_instance")
    .select((eb) => eb.fn.countAll().as("n"))
    .where("host", "=", host)
    .where("deleted", "=", 0)
    .executeTakeFirst()) as { n: unknown };
  const values = {
    host,
    hypervisor_type: r.hypervisorType,
    hypervisor_version: r.hypervisorVersion,
    vcpus: r.vcpus,
    memory_mb: r.memoryMb,
    local_gb: r.diskGb,
    vcpus_used: r.vcpusUsed,
    memory_mb_used: r.memoryMbUsed + RESERVED_MB,
    local_gb_used: r.diskGbUsed,
    running_vms: Number(running.n),
    cpu_info: JSON.stringify(r.cpuInfo),
    host_ip: "127.0.0.1",
  };
  let uuid: string;
  if (existing) {
    uuid = existing.uuid;
    await db
      .updateTable("compute_node")
      .set({ ...values, updated_at: nowIso() })
      .where("uuid", "=", uuid)
      .execute();
  } else {
    uuid = randomUUID();
    await db
      .insertInto("compute_node")
      .values({ ...values, uuid, hypervisor_hostname: r.hypervisorHostname, created_at: nowIso() })
      .execute();
  }
  const placement = core.placement;
  await placement.ensureProvider(uuid, r.hypervisorHostname);
  await placement.setInventory(uuid, {
    VCPU: { total: r.vcpus, allocation_ratio: CPU_RATIO, max_unit: r.vcpus },
    MEMORY_MB: { total: r.memoryMb, reserved: Math.min(RESERVED_MB, r.memoryMb - 1), max_unit: r.memoryMb },
    DISK_GB: { total: r.diskGb, max_unit: r.diskGb },
  });
  if (!existing) {
    const aggs = (await db
      .selectFrom("compute_aggregate_host")
      .innerJoin("compute_aggregate", "compute_aggregate.id", "compute_aggregate_host.aggregate_id")
      .select("compute_aggregate.uuid")
      .where("compute_aggregate_host.host", "=", host)
      .execute()) as Array<{ uuid: string }>;
    if (aggs.length)
      await placement.setAggregates(
        uuid,
        aggs.map((a) => a.uuid),
      );
  }
  return uuid;
}
