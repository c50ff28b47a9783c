// /v2.0/agents (agent), /v2.0/availability_zones (availability_zone): the network agents that registered, alive
// while they heartbeat, and the zones they are in.
import { noContent } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { NetworkCore } from "../core.js";
import { notFound } from "../errors.js";
import {
  agentAlive,
  deleteAgent,
  getAgent,
  listAgents,
  updateAgent,
  type AgentRow,
} from "../store/agents.js";
import { bodyItem, parseUpdate, resourceBody, type Attr } from "./attrs.js";
import { fieldsOf, listResponse, selectFields, type FilterKind, type ListSpec } from "./list.js";
import { bool, str } from "./validators.js";

/** Agents' times as Neutron shows them: "YYYY-MM-DD HH:MM:SS" (UTC). */
const agentTime = (iso: string): string =>
  new Date(iso)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "");

const view = (core: NetworkCore, a: AgentRow) => ({
  id: a.id,
  agent_type: a.agent_type,
  binary: a.binary,
  host: a.host,
  topic: a.topic,
  availability_zone: a.availability_zone,
  admin_state_up: a.admin_state_up === 1,
  alive: agentAlive(core, a),
  created_at: agentTime(a.created_at),
  started_at: agentTime(a.started_at),
  heartbeat_timestamp: agentTime(a.heartbeat_at),
  configurations: JSON.parse(a.configurations) as unknown,
  description: a.description,
  resources_synced: null,
});

const AGENTS: ListSpec = {
  collection: "agents",
  filters: new Map<string, FilterKind>([
    ["id", "string"],
    ["agent_type", "string"],
    ["binary", "string"],
    ["host", "string"],
    ["topic", "string"],
    ["availability_zone", "string"],
    ["admin_state_up", "bool"],
    ["alive", "bool"],
    ["description", "string"],
  ]),
  sortKeys: new Set([
    "id",
    "agent_type",
    "binary",
    "host",
    "topic",
    "availability_zone",
    "admin_state_up",
    "alive",
  ]),
  markerNotFound: (id) => notFound("agent", id),
};

const ZONES: ListSpec = {
  collection: "availability_zones",
  filters: new Map<string, FilterKind>([
    ["name", "string"],
    ["resource", "string"],
    ["state", "string"],
  ]),
  sortKeys: new Set(["name", "resource", "state"]),
  markerNotFound: (id) => notFound("availability_zone", id),
};

const ATTRS = new Map<string, Attr>([
  ["admin_state_up", { post: false, put: true, parse: bool }],
  ["description", { post: false, put: true, parse: str(255) }],
]);

/** Routes of /v2.0/agents and /v2.0/availability_zones. */
export function agentRoutes(core: NetworkCore): Route[] {
  const load = async (id: string) => {
    const a = await getAgent(core, id);
    if (!a) throw notFound("agent", id);
    return a;
  };
  return [
    // As Neutron filters lists by the read rule: others than readers of all get an empty list, and 404 for one.
    route({
      method: "GET",
      path: "/v2.0/agents",
      policy: null,
      auth: "required",
      handler: async (ctx) =>
        listResponse(
          ctx,
          AGENTS,
          ctx.allowed("get_agent", {}) ? (await listAgents(core)).map((a) => view(core, a)) : [],
        ),
    }),
    route({
      method: "GET",
      path: "/v2.0/agents/:agent_id",
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        if (!ctx.allowed("get_agent", {})) throw notFound("agent", ctx.params.agent_id);
        return { agent: selectFields(view(core, await load(ctx.params.agent_id)), fieldsOf(ctx)) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.0/agents/:agent_id",
      policy: "update_agent",
      body: resourceBody("agent"),
      handler: async (ctx) => {
        const a = await load(ctx.params.agent_id);
        const p = parseUpdate(bodyItem(ctx.body, "agent"), ATTRS);
        const set: { admin_state_up?: number; description?: string } = {};
        if (p.values.has("admin_state_up")) set.admin_state_up = p.values.get("admin_state_up") ? 1 : 0;
        if (p.values.has("description")) set.description = p.values.get("description") as string;
        if (Object.keys(set).length) await updateAgent(core, a.id, set);
        return { agent: view(core, await load(a.id)) };
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.0/agents/:agent_id",
      policy: "delete_agent",
      handler: async (ctx) => {
        await deleteAgent(core, (await load(ctx.params.agent_id)).id);
        return noContent();
      },
    }),
    route({
      method: "GET",
      path: "/v2.0/availability_zones",
      policy: "get_availability_zone",
      handler: async (ctx) => {
        const zones = new Map<string, boolean>();
        for (const a of await listAgents(core))
          if (a.availability_zone)
            zones.set(
              a.availability_zone,
              (zones.get(a.availability_zone) ?? false) || (a.admin_state_up === 1 && agentAlive(core, a)),
            );
        const views = [...zones].map(([name, up]) => ({
          name,
          resource: "network",
          state: up ? "available" : "unavailable",
        }));
        return stripIds(
          listResponse(
            ctx,
            ZONES,
            views.map((v) => ({ ...v, id: `${v.resource}:${v.name}` })),
          ),
        );
      },
    }),
  ];
}

/** Zones have no id; the list machinery sorts and pages by one, so it is added and removed here. */
function stripIds(out: Record<string, unknown>): Record<string, unknown> {
  for (const z of out.availability_zones as Array<Record<string, unknown>>) delete z.id;
  return out;
}
