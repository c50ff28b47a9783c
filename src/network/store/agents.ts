// Network agents (Neutron's agents table): one row per (agent type, host), written by the agent at start and by
// its heartbeats; alive while the heartbeat is younger than network.agentDownTime.
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { NetworkCore } from "../core.js";
import { netDb, type NetworkTables } from "./tables.js";

/** An agent row. */
export type AgentRow = NetworkTables["network_agent"];

/** What an agent reports about itself. */
export interface AgentReport {
  agentType: string;
  binary: string;
  host: string;
  topic: string;
  availabilityZone: string | null;
  configurations: Record<string, unknown>;
}

/** Register an agent (or mark it started again) and record a heartbeat; its id. */
export async function reportAgent(core: NetworkCore, r: AgentReport, starting: boolean): Promise<string> {
  const db = netDb(core);
  const now = nowIso();
  const set: Partial<AgentRow> = {
    heartbeat_at: now,
    configurations: JSON.stringify(r.configurations),
    availability_zone: r.availabilityZone,
    binary: r.binary,
    topic: r.topic,
  };
  if (starting) set.started_at = now;
  const res = await db
    .updateTable("network_agent")
    .set(set)
    .where("agent_type", "=", r.agentType)
    .where("host", "=", r.host)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) {
    try {
      await db
        .insertInto("network_agent")
        .values({
          id: core.newId(),
          agent_type: r.agentType,
          binary: r.binary,
          host: r.host,
          topic: r.topic,
          availability_zone: r.availabilityZone,
          admin_state_up: 1,
          configurations: JSON.stringify(r.configurations),
          description: "",
          created_at: now,
          started_at: now,
          heartbeat_at: now,
        })
        .execute();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
  const row = await db
    .selectFrom("network_agent")
    .select("id")
    .where("agent_type", "=", r.agentType)
    .where("host", "=", r.host)
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Every agent. */
export const listAgents = (core: NetworkCore): Promise<AgentRow[]> =>
  netDb(core).selectFrom("network_agent").selectAll().execute();

/** An agent by id, or null. */
export async function getAgent(core: NetworkCore, id: string): Promise<AgentRow | null> {
  if (id.length > 36) return null;
  return (
    (await netDb(core).selectFrom("network_agent").selectAll().where("id", "=", id).executeTakeFirst()) ??
    null
  );
}

/** Change an agent's admin state or description. */
export async function updateAgent(
  core: NetworkCore,
  id: string,
  set: { admin_state_up?: number; description?: string },
): Promise<void> {
  await netDb(core).updateTable("network_agent").set(set).where("id", "=", id).execute();
}

/** Delete an agent row (it registers again at its next start). */
export async function deleteAgent(core: NetworkCore, id: string): Promise<void> {
  await netDb(core).deleteFrom("network_agent").where("id", "=", id).execute();
}

/** Whether an agent's heartbeat is recent. */
export const agentAlive = (core: NetworkCore, a: AgentRow, now = Date.now()): boolean =>
  now - Date.parse(a.heartbeat_at) < core.cfg.network.agentDownTime * 1000;

/** The agents registered on a host. */
export const agentsOnHost = (core: NetworkCore, host: string): Promise<AgentRow[]> =>
  netDb(core).selectFrom("network_agent").selectAll().where("host", "=", host).execute();
