// os-instance-actions: what was done to a server (one action per request) and, for admins or from 2.51 for
// the owner too, the events of each action.
import { createHash } from "node:crypto";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { findInstance, type Instance } from "../../instances/store.js";
import type { Ctx } from "../common.js";
import {
  ADMIN,
  ADMIN_OR_PROJECT,
  changesWindow,
  collectionNext,
  inWindow,
  limitAndMarker,
  novaTime,
  policyRule,
  queryNonNegInt,
  rejectUnknownQuery,
  toMicros,
} from "./util.js";

const rule = (a: string) => `os_compute_api:os-instance-actions:${a}`;
const IA = "/servers/{server_id}/os-instance-actions";

/** Policy defaults of os-instance-actions. */
export const instanceActionPolicies: RuleDefault[] = [
  policyRule(
    rule("events:details"),
    ADMIN,
    "See the details of instance action events.",
    "GET",
    `${IA}/{request_id}`,
  ),
  policyRule(
    rule("events"),
    ADMIN,
    "See the events (with tracebacks) of an instance action.",
    "GET",
    `${IA}/{request_id}`,
  ),
  policyRule(rule("list"), ADMIN_OR_PROJECT, "See what was done to a server.", "GET", IA),
  policyRule(rule("show"), ADMIN_OR_PROJECT, "See one action done to a server.", "GET", `${IA}/{request_id}`),
];

interface ActionRow {
  id: number;
  action: string;
  instance_uuid: string;
  request_id: string;
  user_id: string | null;
  project_id: string | null;
  start_time: string;
  finish_time: string | null;
  message: string | null;
  updated_at: string | null;
}

interface EventRow {
  id: number;
  event: string;
  start_time: string;
  finish_time: string | null;
  result: string | null;
  traceback: string | null;
  host: string | null;
  details: string | null;
}

/** Nova's obfuscated host id: sha224 of project id + host ("" without a host). */
export const hostId = (host: string | null, projectId: string): string =>
  host
    ? createHash("sha224")
        .update(projectId + host)
        .digest("hex")
    : "";

/** Newest first (Nova orders by created_at, then id, descending). */
const newestFirst = (a: { start_time: string; id: number }, b: { start_time: string; id: number }) =>
  (toMicros(b.start_time) ?? 0) - (toMicros(a.start_time) ?? 0) || Number(b.id) - Number(a.id);

async function instanceFor(core: ComputeCore, ctx: Ctx, rule: string): Promise<Instance> {
  const id = ctx.params.server_id;
  const inst = await findInstance(core.db, id, { withDeleted: ctx.microversion.gte("2.21") });
  if (!inst) throw notFound(`Instance ${id} could not be found.`);
  ctx.authorize(rule, { project_id: inst.project_id });
  return inst;
}

function actionView(ctx: Ctx, a: ActionRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    action: a.action,
    instance_uuid: a.instance_uuid,
    request_id: a.request_id,
    user_id: a.user_id,
    project_id: a.project_id,
    start_time: novaTime(a.start_time),
    message: a.message,
  };
  if (ctx.microversion.gte("2.58")) out.updated_at = novaTime(a.updated_at);
  return out;
}

async function actions(core: ComputeCore, uuid: string): Promise<ActionRow[]> {
  const rows = (await core.db
    .selectFrom("compute_instance_action")
    .selectAll()
    .where("instance_uuid", "=", uuid)
    .execute()) as ActionRow[];
  return rows.map((r) => ({ ...r, id: Number(r.id) })).sort(newestFirst);
}

async function list(core: ComputeCore, ctx: Ctx) {
  const mv = ctx.microversion;
  if (mv.gte("2.58")) {
    rejectUnknownQuery(ctx, [
      "limit",
      "marker",
      "changes-since",
      ...(mv.gte("2.66") ? ["changes-before"] : []),
    ]);
    queryNonNegInt(ctx, "limit");
  }
  const window = mv.gte("2.58") ? changesWindow(ctx, mv.gte("2.66")) : {};
  const inst = await instanceFor(core, ctx, rule("list"));
  let rows = await actions(core, inst.uuid);
  if (mv.lt("2.58")) return { instanceActions: rows.map((a) => actionView(ctx, a)) };
  const { limit, marker } = limitAndMarker(ctx);
  if (limit === 0) return { instanceActions: [] };
  const all = rows;
  rows = rows.filter((a) => inWindow(a.updated_at, window));
  if (marker !== undefined) {
    const m = all.find((a) => a.request_id === marker);
    if (!m) throw badRequest(`Marker ${marker} could not be found.`);
    rows = rows.filter((a) => newestFirst(m, a) < 0);
  }
  const page = rows.slice(0, limit).map((a) => actionView(ctx, a));
  const out: Record<string, unknown> = { instanceActions: page };
  const links = collectionNext(
    ctx,
    `servers/${ctx.params.server_id}/os-instance-actions`,
    page,
    (a) => a.request_id,
  );
  if (links.length) out.links = links;
  return out;
}

async function show(core: ComputeCore, ctx: Ctx) {
  const mv = ctx.microversion;
  const inst = await instanceFor(core, ctx, rule("show"));
  const reqId = ctx.params.request_id;
  const action = (await actions(core, inst.uuid)).find((a) => a.request_id === reqId);
  if (!action) throw notFound(`Action ${reqId} not found`);
  const out = actionView(ctx, action);
  const target = { project_id: inst.project_id };
  let showEvents = false;
  let traceback = false;
  let host = false;
  if (ctx.allowed(rule("events"), target)) {
    showEvents = traceback = true;
    host = mv.gte("2.62");
  } else if (mv.gte("2.51")) showEvents = true;
  if (!showEvents) return { instanceAction: out };
  const details = mv.gte("2.84") && ctx.allowed(rule("events:details"), target);
  const events = (
    (await core.db
      .selectFrom("compute_instance_action_event")
      .selectAll()
      .where("action_id", "=", action.id)
      .execute()) as EventRow[]
  )
    .map((e) => ({ ...e, id: Number(e.id) }))
    .sort(newestFirst);
  const project = action.project_id || inst.project_id;
  out.events = events.map((e) => {
    const ev: Record<string, unknown> = {
      event: e.event,
      start_time: novaTime(e.start_time),
      finish_time: novaTime(e.finish_time),
      result: e.result,
    };
    if (traceback) ev.traceback = e.traceback;
    if (host) ev.host = e.host;
    if (mv.gte("2.62")) ev.hostId = hostId(e.host, project);
    if (details) ev.details = e.details;
    return ev;
  });
  return { instanceAction: out };
}

/** /servers/{server_id}/os-instance-actions. */
export function instanceActionRoutes(core: ComputeCore): Route[] {
  const base = "/v2.1/servers/:server_id/os-instance-actions";
  return [
    route({
      method: "GET",
      path: base,
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => list(core, ctx),
    }),
    route({
      method: "GET",
      path: `${base}/:request_id`,
      policy: null,
      auth: "required",
      handler: (ctx: Ctx) => show(core, ctx),
    }),
  ];
}
