// os-server-external-events: other services (the network service, block storage) tell compute about a
// server: VIFs plugged, volumes extended, power changed behind its back. Each event gets its own code.
import type { Kysely } from "kysely";
import { nowIso } from "../../../shared/db/index.js";
import { reply } from "../../../shared/http/reply.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { startAction, withEvent, type RequestContext } from "../../instances/actions.js";
import { VmState } from "../../instances/states.js";
import { casUpdate, findInstance, type Instance } from "../../instances/store.js";
import { objectBody, type Ctx } from "../common.js";
import { refreshNetworkInfo } from "../../networking/refresh.js";
import { agentContract } from "../../rpc.js";
import { target } from "../../../shared/bus/index.js";
import { listBdms } from "../../volumes/bdm-store.js";
import { fieldError, objectField, onlyKeys, required } from "./schema.js";
import { isUuidLike, policyRule, pyRepr } from "./util.js";

const RULE = "os_compute_api:os-server-external-events:create";

/** Policy defaults of os-server-external-events (cloud admins, and the service users of other services). */
export const externalEventPolicies: RuleDefault[] = [
  policyRule(
    RULE,
    "rule:cloud_admin or role:service",
    "Tell compute about events concerning servers (network, volumes, power).",
    "POST",
    "/os-server-external-events",
  ),
];

/** Event names by the microversion that introduced them. */
const NAMES: Array<[string, string]> = [
  ["network-changed", "2.1"],
  ["network-vif-plugged", "2.1"],
  ["network-vif-unplugged", "2.1"],
  ["network-vif-deleted", "2.1"],
  ["volume-extended", "2.51"],
  ["power-update", "2.76"],
  ["accelerator-request-bound", "2.82"],
  ["volume-reimaged", "2.93"],
];
const STATUSES = ["failed", "completed", "in-progress"];
const TAG_REQUIRED = ["volume-extended", "power-update", "accelerator-request-bound"];
const POWER_RUNNING = 1;
const POWER_SHUTDOWN = 4;

interface Event {
  name: string;
  server_uuid: string;
  status?: string;
  tag?: string;
}

function parseEvents(ctx: Ctx): Array<Event & Record<string, unknown>> {
  const body = objectBody(ctx);
  const events = body.events;
  if (events !== undefined) {
    if (!Array.isArray(events))
      throw fieldError("events", events, `${pyRepr(events)} is not of type 'array'`);
    if (events.length < 1) throw fieldError("events", events, "[] is too short");
    const names = NAMES.filter(([, v]) => ctx.microversion.gte(v)).map(([n]) => n);
    events.forEach((e: unknown, i) => {
      const ev = objectField(i, e);
      if (ev.name !== undefined && (typeof ev.name !== "string" || !names.includes(ev.name)))
        throw fieldError("name", ev.name, `${pyRepr(ev.name)} is not one of ${pyRepr(names)}`);
      if (ev.server_uuid !== undefined) {
        if (typeof ev.server_uuid !== "string")
          throw fieldError(
            "server_uuid",
            ev.server_uuid,
            `${pyRepr(ev.server_uuid)} is not of type 'string'`,
          );
        if (!isUuidLike(ev.server_uuid))
          throw fieldError("server_uuid", ev.server_uuid, `${pyRepr(ev.server_uuid)} is not a 'uuid'`);
      }
      if (ev.status !== undefined && (typeof ev.status !== "string" || !STATUSES.includes(ev.status)))
        throw fieldError("status", ev.status, `${pyRepr(ev.status)} is not one of ${pyRepr(STATUSES)}`);
      if (ev.tag !== undefined) {
        if (typeof ev.tag !== "string")
          throw fieldError("tag", ev.tag, `${pyRepr(ev.tag)} is not of type 'string'`);
        if (ev.tag.length > 255) throw fieldError("tag", ev.tag, `${pyRepr(ev.tag)} is too long`);
      }
      required(ev, ["name", "server_uuid"], i);
      onlyKeys(ev, ["name", "server_uuid", "status", "tag"], i);
    });
  }
  required(body, ["events"]);
  onlyKeys(body, ["events"]);
  return events as Array<Event & Record<string, unknown>>;
}

/** Add an event (already finished unless in progress) to the instance's latest action, if it has one. */
async function recordOnLatestAction(db: Kysely<any>, inst: Instance, ev: Event): Promise<void> {
  const latest = (await db
    .selectFrom("compute_instance_action")
    .select("id")
    .where("instance_uuid", "=", inst.uuid)
    .orderBy("start_time", "desc")
    .orderBy("id", "desc")
    .executeTakeFirst()) as { id: number } | undefined;
  if (!latest) return;
  const now = nowIso();
  const status = ev.status ?? "completed";
  await db
    .insertInto("compute_instance_action_event")
    .values({
      action_id: Number(latest.id),
      event: (ev.tag ? `${ev.name}-${ev.tag}` : ev.name).slice(0, 255),
      start_time: now,
      finish_time: status === "in-progress" ? null : now,
      result: status === "in-progress" ? null : status === "failed" ? "Error" : "Success",
      traceback: null,
      host: inst.host,
      details: null,
    })
    .execute();
  await db
    .updateTable("compute_instance_action")
    .set({ updated_at: now })
    .where("id", "=", Number(latest.id))
    .execute();
}

/** A power-update event: stop or start the instance in the DB when its state allows (best effort, as Nova). */
async function powerUpdate(db: Kysely<any>, rc: RequestContext, inst: Instance, tag: string): Promise<void> {
  if (tag !== "POWER_ON" && tag !== "POWER_OFF") return;
  await startAction(db, rc, inst.uuid, tag === "POWER_ON" ? "start" : "stop");
  await withEvent(db, rc, inst.uuid, "compute_power_update", inst.host, async () => {
    const now = await findInstance(db, inst.uuid);
    if (!now || now.task_state !== null) return;
    if (tag === "POWER_OFF" && now.vm_state === VmState.ACTIVE && now.power_state === POWER_RUNNING)
      await casUpdate(
        db,
        inst.uuid,
        { vmState: [VmState.ACTIVE], taskState: [null] },
        { vm_state: VmState.STOPPED, power_state: POWER_SHUTDOWN, progress: 0 },
      );
    if (tag === "POWER_ON" && now.vm_state === VmState.STOPPED && now.power_state === POWER_SHUTDOWN)
      await casUpdate(
        db,
        inst.uuid,
        { vmState: [VmState.STOPPED], taskState: [null] },
        { vm_state: VmState.ACTIVE, power_state: POWER_RUNNING },
      );
  });
}

/** volume-extended: read the volume's new size and have the server's host show it to the guest. */
async function extendVolume(core: ComputeCore, inst: Instance, volumeId: string): Promise<void> {
  const attached = (await listBdms(core.db, inst.uuid)).some((b) => b.volumeId === volumeId);
  if (!attached || !inst.host || !core.volume) return;
  const vol = await core.volume.showVolume(inst.project_id, volumeId);
  await core.bus.call(
    target(agentContract, inst.host),
    "extend_volume",
    { uuid: inst.uuid, volumeId, sizeBytes: vol.size * 1024 ** 3 },
    { timeoutMs: 60_000 },
  );
}

async function dispatch(core: ComputeCore, ctx: Ctx, inst: Instance, ev: Event) {
  const db = core.db;
  const rc: RequestContext = {
    requestId: ctx.requestId,
    userId: ctx.auth?.userId ?? "",
    projectId: ctx.auth?.projectId ?? "",
  };
  if (ev.name === "power-update") return powerUpdate(db, rc, inst, ev.tag as string);
  if (ev.name === "volume-extended") {
    await startAction(db, rc, inst.uuid, "extend_volume");
    return withEvent(db, rc, inst.uuid, "compute_extend_volume", inst.host, () =>
      extendVolume(core, inst, ev.tag as string),
    );
  }
  // The network service says a port changed (or went): the cache, and so `addresses`, is read again.
  if (ev.name === "network-changed" || ev.name === "network-vif-deleted")
    await refreshNetworkInfo(core, inst);
  // A VIF plugged or unplugged: whichever host waits for it (the server's, or a move's destination) hears it.
  if (ev.name === "network-vif-plugged" || ev.name === "network-vif-unplugged")
    await core.bus.fanout(agentContract, "external_instance_event", {
      uuid: inst.uuid,
      events: [
        { name: ev.name, ...(ev.tag !== undefined ? { tag: ev.tag } : {}), status: ev.status ?? "completed" },
      ],
    });
  return recordOnLatestAction(db, inst, ev);
}

/** POST /os-server-external-events. */
export function externalEventRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "POST",
      path: "/v2.1/os-server-external-events",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const events = parseEvents(ctx);
        ctx.authorize(RULE, {});
        let code = 200;
        const accepted: Array<[Instance, Event]> = [];
        const instances = new Map<string, Instance | undefined>();
        for (const ev of events) {
          if (!instances.has(ev.server_uuid))
            instances.set(ev.server_uuid, await findInstance(core.db, ev.server_uuid));
          const inst = instances.get(ev.server_uuid);
          const status = ev.status ?? "completed";
          const tag = ev.tag;
          if (!inst) Object.assign(ev, { status: "failed", code: 404 });
          else if (TAG_REQUIRED.includes(ev.name) && tag === undefined)
            Object.assign(ev, { status: "failed", code: 400 });
          else if (inst.host) {
            accepted.push([inst, { name: ev.name, server_uuid: ev.server_uuid, status, tag }]);
            Object.assign(ev, { status: "completed", code: 200 });
          } else Object.assign(ev, { status: "failed", code: 422 });
          if (ev.code !== 200) code = 207;
        }
        for (const [inst, ev] of accepted)
          await dispatch(core, ctx, inst, ev).catch((e: Error) =>
            ctx.log.warn(
              { err: e.message, event: ev.name, server: inst.uuid },
              "external event processing failed",
            ),
          );
        return reply(code, { events });
      },
    }),
  ];
}
