// os-aggregates: host aggregates with metadata; availability_zone metadata makes them availability zones.
// Membership is mirrored into placement (provider aggregates) for the hosts' compute nodes.
import { randomUUID } from "node:crypto";
import { insertWithId, isUniqueViolation, nowIso } from "../../../shared/db/index.js";
import { reply } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, conflict, notFound } from "../../errors.js";
import type { Ctx } from "../common.js";
import { parseAction, parseCreate, parseUpdate } from "./aggregate-bodies.js";
import {
  checkZone,
  computeHostExists,
  getAggregate,
  hostAggregateUuids,
  loadAll,
  mirror,
  nameTaken,
  setMeta,
  type Aggregate,
} from "./aggregate-store.js";
import { ADMIN, novaTime, policyRule, validateInteger } from "./util.js";

const rule = (a: string) => `os_compute_api:os-aggregates:${a}`;
const A = "/os-aggregates";
const AID = `${A}/{aggregate_id}`;

/** Policy defaults of os-aggregates. */
export const aggregatePolicies: RuleDefault[] = [
  policyRule(
    rule("set_metadata"),
    ADMIN,
    "Set or remove metadata keys of an aggregate.",
    "POST",
    `${AID}/action (set_metadata)`,
  ),
  policyRule(
    rule("add_host"),
    ADMIN,
    "Put a compute host into an aggregate.",
    "POST",
    `${AID}/action (add_host)`,
  ),
  policyRule(rule("create"), ADMIN, "Make a new host aggregate.", "POST", A),
  policyRule(
    rule("remove_host"),
    ADMIN,
    "Take a compute host out of an aggregate.",
    "POST",
    `${AID}/action (remove_host)`,
  ),
  policyRule(rule("update"), ADMIN, "Rename an aggregate or change its availability zone.", "PUT", AID),
  policyRule(rule("index"), ADMIN, "See every host aggregate.", "GET", A),
  policyRule(rule("delete"), ADMIN, "Remove an empty aggregate.", "DELETE", AID),
  policyRule(rule("show"), ADMIN, "See one aggregate with its hosts and metadata.", "GET", AID),
];

/** Nova's aggregate body (uuid from 2.41; hosts and metadata unless `full` is false). */
function view(ctx: Ctx, a: Aggregate, full = true): Record<string, unknown> {
  const out: Record<string, unknown> = { id: a.id };
  if (ctx.microversion.gte("2.41")) out.uuid = a.uuid;
  out.name = a.name;
  if (full) Object.assign(out, { hosts: a.hosts, metadata: a.metadata });
  Object.assign(out, {
    created_at: novaTime(a.created_at),
    updated_at: novaTime(a.updated_at),
    deleted_at: null,
    deleted: false,
    availability_zone: a.metadata.availability_zone ?? null,
  });
  return { aggregate: out };
}

async function action(core: ComputeCore, ctx: Ctx) {
  const db = core.db;
  const parsed = parseAction(ctx);
  const act = parsed.action;
  const id = ctx.params.id;
  if (parsed.action === "set_metadata") {
    const meta = parsed.metadata;
    ctx.authorize(rule(act), {});
    const a = await getAggregate(db, id);
    const fail = (why: string) => badRequest(`Cannot update metadata of aggregate ${a.id}. Reason: ${why}.`);
    await checkZone(
      db,
      a,
      "availability_zone" in meta ? meta.availability_zone : undefined,
      a.hosts,
      fail,
      true,
    );
    await setMeta(db, a.id, meta);
    return view(ctx, await getAggregate(db, id));
  }
  const host = parsed.host;
  ctx.authorize(rule(act), {});
  validateInteger(id);
  if (act === "add_host") {
    if (!(await computeHostExists(db, host))) throw notFound(`Compute host ${host} could not be found.`);
    const a = await getAggregate(db, id);
    const fail = (why: string) => conflict(`Cannot add host to aggregate ${a.id}. Reason: ${why}.`);
    await checkZone(db, a, a.metadata.availability_zone, [host], fail, false);
    if (a.hosts.includes(host)) throw conflict(`Aggregate ${a.id} already has host ${host}.`);
    try {
      await db.insertInto("compute_aggregate_host").values({ aggregate_id: a.id, host }).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Aggregate ${a.id} already has host ${host}.`);
      throw e;
    }
    await mirror(core, ctx, host, await hostAggregateUuids(db, host)).catch((e: Error) =>
      ctx.log.warn(
        { host, err: e.message },
        "failed to associate the host's providers with a placement aggregate",
      ),
    );
    return view(ctx, await getAggregate(db, id));
  }
  const missing = () => notFound(`Cannot remove host ${host} in aggregate ${id}`);
  if (!(await computeHostExists(db, host))) throw missing();
  const a = await getAggregate(db, id).catch(() => Promise.reject(missing()));
  if (!a.hosts.includes(host)) throw missing();
  await mirror(core, ctx, host, await hostAggregateUuids(db, host, a.id));
  await db
    .deleteFrom("compute_aggregate_host")
    .where("aggregate_id", "=", a.id)
    .where("host", "=", host)
    .execute();
  return view(ctx, await getAggregate(db, id));
}

/** /os-aggregates. */
export function aggregateRoutes(core: ComputeCore): Route[] {
  const db = core.db;
  return [
    route({
      method: "GET",
      path: "/v2.1/os-aggregates",
      policy: rule("index"),
      target: () => ({}),
      handler: async (ctx: Ctx) => ({
        aggregates: (await loadAll(db)).map((a) => view(ctx, a).aggregate),
      }),
    }),
    route({
      method: "POST",
      path: "/v2.1/os-aggregates",
      policy: rule("create"),
      target: () => ({}),
      handler: async (ctx: Ctx) => {
        const { name, az } = parseCreate(ctx);
        if (await nameTaken(db, name)) throw conflict(`Aggregate ${name} already exists.`);
        const now = nowIso();
        let id: number;
        try {
          id = await insertWithId(db, "compute_aggregate", {
            uuid: randomUUID(),
            name,
            created_at: now,
            updated_at: null,
          });
        } catch (e) {
          if (isUniqueViolation(e)) throw conflict(`Aggregate ${name} already exists.`);
          throw e;
        }
        if (az)
          await db
            .insertInto("compute_aggregate_metadata")
            .values({ aggregate_id: id, meta_key: "availability_zone", value: az })
            .execute();
        const [a] = await loadAll(db, id);
        return view(ctx, a, false);
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/os-aggregates/:id",
      policy: rule("show"),
      target: () => ({}),
      handler: async (ctx: Ctx) => view(ctx, await getAggregate(db, ctx.params.id)),
    }),
    route({
      method: "PUT",
      path: "/v2.1/os-aggregates/:id",
      policy: rule("update"),
      target: () => ({}),
      handler: async (ctx: Ctx) => {
        const upd = parseUpdate(ctx);
        const a = await getAggregate(db, ctx.params.id);
        if (upd.name !== undefined && upd.name !== a.name && (await nameTaken(db, upd.name, a.id)))
          throw conflict(`Aggregate ${upd.name} already exists.`);
        const fail = (why: string) => badRequest(`Cannot update aggregate ${a.id}. Reason: ${why}.`);
        await checkZone(db, a, upd.az, a.hosts, fail, true);
        if (upd.name !== undefined)
          try {
            await db
              .updateTable("compute_aggregate")
              .set({ name: upd.name, updated_at: nowIso() })
              .where("id", "=", a.id)
              .execute();
          } catch (e) {
            if (isUniqueViolation(e)) throw conflict(`Aggregate ${upd.name} already exists.`);
            throw e;
          }
        if (upd.az !== undefined) await setMeta(db, a.id, { availability_zone: upd.az });
        return view(ctx, await getAggregate(db, ctx.params.id));
      },
    }),
    route({
      method: "DELETE",
      path: "/v2.1/os-aggregates/:id",
      policy: rule("delete"),
      target: () => ({}),
      handler: async (ctx: Ctx) => {
        const a = await getAggregate(db, ctx.params.id);
        if (a.hosts.length)
          throw badRequest(`Cannot remove host from aggregate ${a.id}. Reason: Host aggregate is not empty.`);
        await db.transaction().execute(async (tx) => {
          await tx.deleteFrom("compute_aggregate_metadata").where("aggregate_id", "=", a.id).execute();
          await tx.deleteFrom("compute_aggregate").where("id", "=", a.id).execute();
        });
        return reply(200, undefined);
      },
    }),
    route({
      method: "POST",
      path: "/v2.1/os-aggregates/:id/action",
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => action(core, ctx),
    }),
  ];
}
