// os-services: list the compute control plane's services and agents, enable/disable/force down a compute
// service (by host and binary before 2.53, by uuid from 2.53), and delete one.
import type { Kysely } from "kysely";
import { nowIso } from "../../../shared/db/index.js";
import { noContent } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, conflict, notFound } from "../../errors.js";
import { listServices, parseService, serviceIsUp, type ServiceRow } from "../../servicegroup.js";
import { objectBody, type Ctx } from "../common.js";
import { FQDN, boolField, fieldError, onlyKeys, required, stringField } from "./schema.js";
import {
  ADMIN,
  API_BINARIES,
  fitsInt,
  aggregateZonesByHost,
  isUuidLike,
  placementOrNull,
  policyRule,
  pyRepr,
  rejectUnknownQuery,
  serviceUpdatedAt,
  serviceZone,
  validateInteger,
} from "./util.js";

const P = "os_compute_api:os-services:%s";
const rule = (a: string) => P.replace("%s", a);

/** Policy defaults of os-services. */
export const servicePolicies: RuleDefault[] = [
  policyRule(rule("list"), ADMIN, "See the compute services and their state.", "GET", "/os-services"),
  policyRule(
    rule("update"),
    ADMIN,
    "Enable, disable or force down a compute service.",
    "PUT",
    "/os-services/{service_id}",
  ),
  policyRule(
    rule("delete"),
    ADMIN,
    "Remove a compute service and its compute nodes.",
    "DELETE",
    "/os-services/{service_id}",
  ),
];

/** Migration statuses after which a migration no longer holds resources on its hosts. */
const DONE_STATUSES = ["confirmed", "reverted", "error", "failed", "completed", "cancelled", "done"];

async function serviceView(core: ComputeCore, ctx: Ctx, s: ServiceRow, zones?: Map<string, string[]>) {
  const byHost = zones ?? (await aggregateZonesByHost(core.db));
  const out: Record<string, unknown> = {
    binary: s.binary,
    host: s.host,
    id: ctx.microversion.gte("2.53") ? s.uuid : s.id,
    zone: serviceZone(s, byHost, core.cfg),
    status: s.disabled ? "disabled" : "enabled",
    state: serviceIsUp(s, core.cfg) ? "up" : "down",
    updated_at: serviceUpdatedAt(s),
    disabled_reason: s.disabled_reason,
  };
  if (ctx.microversion.gte("2.11")) out.forced_down = s.forced_down;
  return out;
}

/** Forcing a host up is refused while evacuations from it still wait for its agent to clean up. */
async function checkForEvacuations(db: Kysely<any>, host: string) {
  const row = await db
    .selectFrom("compute_server_migration")
    .select("id")
    .where("source_compute", "=", host)
    .where("status", "=", "done")
    .where("migration_type", "=", "evacuation")
    .executeTakeFirst();
  if (row)
    throw badRequest(
      `Unable to force up host ${host} as \`done\` evacuation migration records remain associated with the host. ` +
        "Ensure the compute service has been restarted, allowing these records to move to `completed` before " +
        "retrying this request.",
    );
}

async function saveService(db: Kysely<any>, id: number, set: Record<string, unknown>) {
  await db
    .updateTable("compute_service")
    .set({ ...set, updated_at: nowIso() })
    .where("id", "=", id)
    .execute();
}

async function findService(db: Kysely<any>, where: [string, unknown][]): Promise<ServiceRow | undefined> {
  let q = db.selectFrom("compute_service").selectAll();
  for (const [col, v] of where) q = q.where(col, "=", v);
  const row = await q.executeTakeFirst();
  return row ? parseService(row) : undefined;
}

const findIntId = (db: Kysely<any>, n: number) => (fitsInt(n) ? findService(db, [["id", n]]) : undefined);

/** PUT /os-services/{enable,disable,disable-log-reason,force-down} before 2.53. */
async function legacyUpdate(core: ComputeCore, ctx: Ctx, action: string) {
  const body = objectBody(ctx);
  const forceDown = ctx.microversion.gte("2.11");
  const host = stringField(body, "host", FQDN) as string;
  const binary = stringField(body, "binary") as string;
  const reasonIn = stringField(body, "disabled_reason");
  const forcedIn = forceDown ? boolField(body, "forced_down") : undefined;
  required(body, ["host", "binary"]);
  onlyKeys(body, ["host", "binary", "disabled_reason", ...(forceDown ? ["forced_down"] : [])]);
  const actions = ["enable", "disable", "disable-log-reason", ...(forceDown ? ["force-down"] : [])];
  if (!actions.includes(action)) throw notFound("Unknown action");
  let set: Record<string, unknown>;
  let out: Record<string, unknown>;
  if (action === "force-down") {
    if (forcedIn === undefined) throw badRequest("Missing forced_down field");
    set = { forced_down: forcedIn ? 1 : 0 };
    out = { host, binary, forced_down: forcedIn };
  } else if (action === "enable") {
    set = { disabled: 0, disabled_reason: null };
    out = { host, binary, status: "enabled" };
  } else {
    if (action === "disable-log-reason" && reasonIn === undefined)
      throw badRequest("Missing disabled reason field");
    const reason = action === "disable-log-reason" ? reasonIn : undefined;
    set = { disabled: 1, disabled_reason: reason ?? null };
    out = { host, binary, status: "disabled", ...(reason ? { disabled_reason: reason } : {}) };
  }
  if (binary !== "nova-compute")
    throw badRequest(
      `Updating a ${binary} service is not supported. Only nova-compute services can be updated.`,
    );
  if (action === "force-down" && forcedIn === false) await checkForEvacuations(core.db, host);
  const s = await findService(core.db, [
    ["host", host],
    ["binary", binary],
  ]);
  if (!s) {
    const anyOnHost = await findService(core.db, [["host", host]]);
    throw notFound(
      anyOnHost
        ? `Could not find binary ${binary} on host ${host}.`
        : `Host '${host}' is not mapped to any cell`,
    );
  }
  await saveService(core.db, s.id, set);
  return { service: out };
}

/** PUT /os-services/{uuid} from 2.53: status, disabled_reason and forced_down in the body. */
async function updateByUuid(core: ComputeCore, ctx: Ctx, id: string) {
  if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
  const body = objectBody(ctx);
  const status = body.status;
  if (status !== undefined && status !== "enabled" && status !== "disabled")
    throw fieldError("status", status, `${pyRepr(status)} is not one of ['enabled', 'disabled']`);
  const reason = stringField(body, "disabled_reason");
  const forced = boolField(body, "forced_down");
  onlyKeys(body, ["status", "disabled_reason", "forced_down"]);
  const s = await findService(core.db, [["uuid", id]]);
  if (!s) throw notFound(`Service ${id} could not be found.`);
  if (s.binary !== "nova-compute")
    throw badRequest(
      `Updating a ${s.binary} service is not supported. Only nova-compute services can be updated.`,
    );
  const set: Record<string, unknown> = {};
  if (status === "enabled") {
    if (reason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    if (s.disabled || s.disabled_reason !== null) Object.assign(set, { disabled: 0, disabled_reason: null });
  } else if (status === "disabled") {
    if (!s.disabled || s.disabled_reason !== (reason ?? null))
      Object.assign(set, { disabled: 1, disabled_reason: reason ?? null });
  }
  if (forced !== undefined) {
    if (forced !== s.forced_down) set.forced_down = forced ? 1 : 0;
    if (!forced) await checkForEvacuations(core.db, s.host);
  }
  if (status === undefined && forced === undefined)
    throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  if (Object.keys(set).length) await saveService(core.db, s.id, set);
  const now = (await findService(core.db, [["id", s.id]])) ?? s;
  return { service: await serviceView(core, ctx, now) };
}

async function deleteService(core: ComputeCore, ctx: Ctx, id: string) {
  const db = core.db;
  const byUuid = ctx.microversion.gte("2.53");
  if (byUuid && !isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
  const s = byUuid ? await findService(db, [["uuid", id]]) : await findIntId(db, validateInteger(id));
  if (!s) throw notFound(`Service ${id} not found.`);
  let nodes: Array<{ uuid: string; hypervisor_hostname: string }> = [];
  if (s.binary === "nova-compute") {
    const busy = await db
      .selectFrom("compute_instance")
      .select("id")
      .where("host", "=", s.host)
      .where("deleted", "=", 0)
      .executeTakeFirst();
    if (busy)
      throw conflict(
        "Unable to delete compute service that is hosting instances. Migrate or delete the instances first.",
      );
    nodes = (await db
      .selectFrom("compute_node")
      .select(["uuid", "hypervisor_hostname"])
      .where("host", "=", s.host)
      .execute()) as typeof nodes;
    for (const n of nodes) {
      const moving = await db
        .selectFrom("compute_server_migration")
        .select("id")
        .where("status", "not in", DONE_STATUSES)
        .where((eb) =>
          eb.or([
            eb.and([eb("source_compute", "=", s.host), eb("source_node", "=", n.hypervisor_hostname)]),
            eb.and([eb("dest_compute", "=", s.host), eb("dest_node", "=", n.hypervisor_hostname)]),
          ]),
        )
        .executeTakeFirst();
      if (moving)
        throw conflict(
          "Unable to delete compute service that has in-progress migrations. Complete the migrations or " +
            "delete the instances first.",
        );
    }
  }
  await db.transaction().execute(async (tx) => {
    if (s.binary === "nova-compute") {
      await tx.deleteFrom("compute_aggregate_host").where("host", "=", s.host).execute();
      await tx.deleteFrom("compute_node").where("host", "=", s.host).execute();
    }
    await tx.deleteFrom("compute_service").where("id", "=", s.id).execute();
  });
  const placement = placementOrNull(core);
  for (const n of nodes) {
    if (!placement) {
      ctx.log.warn({ node: n.uuid }, "placement is not wired: resource provider of a deleted service kept");
      continue;
    }
    await placement.deleteProvider(n.uuid).catch((e: Error) => {
      ctx.log.error(
        { node: n.uuid, err: e.message },
        "failed to delete the resource provider of a compute node",
      );
    });
  }
  return noContent();
}

/** /os-services. */
export function serviceRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.1/os-services",
      policy: rule("list"),
      handler: async (ctx: Ctx) => {
        if (ctx.microversion.gte("2.75")) rejectUnknownQuery(ctx, ["host", "binary"]);
        const { host, binary } = ctx.query;
        const zones = await aggregateZonesByHost(core.db);
        const rows = (await listServices(core.db)).filter(
          (s) =>
            !API_BINARIES.includes(s.binary) &&
            (!host || s.host === host) &&
            (!binary || s.binary === binary),
        );
        return { services: await Promise.all(rows.map((s) => serviceView(core, ctx, s, zones))) };
      },
    }),
    route({
      method: "PUT",
      path: "/v2.1/os-services/:id",
      policy: rule("update"),
      handler: (ctx: Ctx) =>
        ctx.microversion.gte("2.53")
          ? updateByUuid(core, ctx, ctx.params.id)
          : legacyUpdate(core, ctx, ctx.params.id),
    }),
    route({
      method: "DELETE",
      path: "/v2.1/os-services/:id",
      policy: rule("delete"),
      handler: (ctx: Ctx) => deleteService(core, ctx, ctx.params.id),
    }),
  ];
}
