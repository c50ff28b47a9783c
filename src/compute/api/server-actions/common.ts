// What every server action shares: the action table type, loading the server as the caller may see it, Nova's
// lock and state checks (in Nova's order and words), starting the action with compare-and-set, casting, and
// small validators for Nova's action body schemas (closed to unknown fields).
import { randomInt } from "node:crypto";
import type { Kysely } from "kysely";
import { target } from "../../../shared/bus/index.js";
import type { ComputeCore } from "../../core.js";
import { conflict, notFound } from "../../errors.js";
import { startAction, type RequestContext } from "../../instances/actions.js";
import {
  findInstance,
  transition,
  type Expect,
  type Instance,
  type InstancePatch,
} from "../../instances/store.js";
import { agentContract } from "../../rpc.js";
import { computeHostUp } from "../../servicegroup.js";
import { invalid, isAdmin, type Ctx } from "../common.js";
import { requestContext } from "../servers/create.js";

/** The request context carried to the conductor and agents (the servers API builds it). */
export { requestContext };

/** One action of POST /servers/{id}/action, keyed by its body member. */
export interface ServerAction {
  /** Lowest microversion the action exists in (404 below, as Nova's versioned actions). */
  min?: string;
  /** Highest microversion the action exists in (404 above). */
  max?: string;
  /** Run the action; returns a Reply or a body (status 202 with no body when undefined). */
  run(core: ComputeCore, ctx: Ctx, id: string, value: unknown): Promise<unknown>;
}

/** Actions by body member name. */
export type ActionTable = Record<string, ServerAction>;

/** The server if the caller may see it: others' servers are 404 for non-admins (Nova's project_only reads). */
export async function loadServer(core: ComputeCore, ctx: Ctx, id: string): Promise<Instance> {
  const inst = await findInstance(core.db, id);
  if (!inst || (!isAdmin(ctx) && inst.project_id !== ctx.auth?.projectId))
    throw notFound(`Instance ${id} could not be found.`);
  return inst;
}

/** Load the server and enforce `rule` against its owner. */
export async function authorizedServer(
  core: ComputeCore,
  ctx: Ctx,
  id: string,
  rule: string,
): Promise<Instance> {
  const inst = await loadServer(core, ctx, id);
  ctx.authorize(rule, { project_id: inst.project_id, user_id: inst.user_id });
  return inst;
}

/** Nova's check_instance_lock: a locked server refuses actions from non-admins. */
export function checkLock(ctx: Ctx, inst: Instance): void {
  if (inst.locked && !isAdmin(ctx)) throw conflict(`Instance ${inst.uuid} is locked`);
}

/** Nova's check_instance_host: the action needs the server on a host. */
export function needHost(inst: Instance): string {
  if (!inst.host) throw conflict(`Instance ${inst.uuid} is not ready`);
  return inst.host;
}

/** What a state check allows; task [null] (no task) unless given, and the server must have launched. */
export interface StateRule {
  vm?: readonly string[];
  task?: readonly (string | null)[] | null;
  launched?: boolean;
}

/** Nova's check_instance_state, in its order: vm_state, then task_state, then launched_at. */
export function checkState(inst: Instance, action: string, rule: StateRule): void {
  const fail = (attr: string, value: unknown) =>
    conflict(
      `Cannot '${action}' instance ${inst.uuid} while it is in ${attr} ${value === null ? "None" : value}`,
    );
  if (rule.vm && !rule.vm.includes(inst.vm_state)) throw fail("vm_state", inst.vm_state);
  const task = rule.task === undefined ? [null] : rule.task;
  if (task && !task.includes(inst.task_state)) throw fail("task_state", inst.task_state);
  if (rule.launched !== false && !inst.launched_at) throw fail("launched_at", null);
}

/**
 * Check the state, move the row to its task with compare-and-set (a racing request gets the 409), and record the
 * instance action. Returns the request context to pass on.
 */
export async function begin(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  o: {
    action: string;
    record: string;
    rule: StateRule;
    patch: InstancePatch;
    /** The transaction to write in (a quota lock's), instead of core.db. */
    db?: Kysely<any>;
  },
): Promise<RequestContext> {
  checkState(inst, o.action, o.rule);
  const task = o.rule.task === undefined ? [null] : o.rule.task;
  const expect: Expect = {
    ...(o.rule.vm ? { vmState: o.rule.vm } : {}),
    ...(task ? { taskState: task } : {}),
  };
  const db = o.db ?? core.db;
  await transition(db, inst, o.action, expect, o.patch);
  const rc = requestContext(ctx);
  await startAction(db, rc, inst.uuid, o.record);
  return rc;
}

/** Whether the compute service of `host` is up (heartbeating and not forced down). */
export function serviceUp(core: ComputeCore, host: string): Promise<boolean> {
  return computeHostUp(core.db, core.cfg, host);
}

/** Nova's check_instance_host(check_is_up=True): the server's host must be up. */
export async function needHostUp(core: ComputeCore, inst: Instance): Promise<string> {
  const host = needHost(inst);
  if (!(await serviceUp(core, host))) throw conflict("Service is unavailable at this time.");
  return host;
}

/** Cast to the agent of a host. */
export const agentTarget = (host: string) => target(agentContract, host);

/** Nova's generated admin passwords: 12 characters without look-alikes. */
export function generatePassword(length = 12): string {
  const chars = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let out = "";
  for (let i = 0; i < length; i++) out += chars[randomInt(chars.length)];
  return out;
}

// ---- body validation (Nova's jsonschema messages) ----

/** The action's value must be an object (or null when `nullable`); unknown members are refused. */
export function closedObject(
  field: string,
  value: unknown,
  allowed: readonly string[],
  o: { nullable?: boolean; required?: readonly string[] } = {},
): Record<string, unknown> | null {
  if (value === null && o.nullable) return null;
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw invalid(
      field,
      value,
      `${JSON.stringify(value)} is not of type 'object'${o.nullable ? ", 'null'" : ""}`,
    );
  const obj = value as Record<string, unknown>;
  for (const k of Object.keys(obj))
    if (!allowed.includes(k))
      throw invalid(field, value, `Additional properties are not allowed ('${k}' was unexpected)`);
  for (const k of o.required ?? [])
    if (!(k in obj)) throw invalid(field, value, `'${k}' is a required property`);
  return obj;
}

const TRUE = new Set(["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"]);
const FALSE = new Set(["False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"]);

/** Nova's parameter_types.boolean: a JSON boolean or one of the spellings it lists. */
export function parseBoolean(field: string, v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "string" && TRUE.has(v)) return true;
  if (typeof v === "string" && FALSE.has(v)) return false;
  throw invalid(field, v, `${JSON.stringify(v)} is not one of the accepted boolean values`);
}

/** A string field (with length bounds), or 400. */
export function stringField(field: string, v: unknown, min = 0, max = Infinity): string {
  if (typeof v !== "string") throw invalid(field, v, `${JSON.stringify(v)} is not of type 'string'`);
  if (v.length < min) throw invalid(field, v, `${JSON.stringify(v)} is too short`);
  if (v.length > max) throw invalid(field, v, `${JSON.stringify(v)} is too long`);
  return v;
}

/** Nova's parameter_types.name: 1-255 printable characters, no leading or trailing whitespace. */
export function nameField(field: string, v: unknown): string {
  const s = stringField(field, v, 1, 255);
  if (s.trim() !== s || [...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
    throw invalid(field, v, "printable characters. Can not start or end with whitespace.");
  return s;
}

/** A host name field (parameter_types.fqdn). */
export function fqdnField(field: string, v: unknown): string {
  const s = stringField(field, v, 1, 255);
  if (!/^[a-zA-Z0-9-._]*$/.test(s))
    throw invalid(field, v, `${JSON.stringify(v)} does not match '^[a-zA-Z0-9-._]*$'`);
  return s;
}

/** A UUID field (image ids). */
export function uuidField(field: string, v: unknown): string {
  const s = stringField(field, v);
  if (!/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s))
    throw invalid(field, v, `${JSON.stringify(v)} is not a 'uuid'`);
  return s;
}

/** Nova's parameter_types.metadata: string keys of 1-255 [a-zA-Z0-9-_:. ] and string values up to 255. */
export function metadataField(field: string, v: unknown): Record<string, string> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw invalid(field, v, `${JSON.stringify(v)} is not of type 'object'`);
  for (const [k, val] of Object.entries(v)) {
    if (!/^[a-zA-Z0-9-_:. ]{1,255}$/.test(k))
      throw invalid(field, v, `Additional properties are not allowed ('${k}' was unexpected)`);
    if (typeof val !== "string" || val.length > 255)
      throw invalid(`${field}/${k}`, val, `${JSON.stringify(val)} is not a string of at most 255 characters`);
  }
  return v as Record<string, string>;
}
