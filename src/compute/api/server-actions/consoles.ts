// Consoles: os-getConsoleOutput, the legacy os-get*Console actions (2.1-2.5), POST /servers/{id}/remote-consoles
// (2.6) and GET /os-console-auth-tokens/{token} (admin, 2.31). Only VNC exists (the drivers have no SPICE, serial
// or MKS consoles, as a Nova with those disabled), and only when a noVNC proxy is configured (compute.vncProxyUrl):
// without one no URL is handed out. Tokens live in memory for Nova's console_token_ttl.
import { randomBytes } from "node:crypto";
import { ApiError } from "../../../shared/http/errors.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, conflict, notFound } from "../../errors.js";
import { findInstance, type Instance } from "../../instances/store.js";
import { TaskState as T } from "../../instances/states.js";
import { invalid, type Ctx } from "../common.js";
import { agentTarget, authorizedServer, closedObject, needHost, type ActionTable } from "./common.js";

/** Seconds a console token stays valid (Nova's [consoleauth] token_ttl). */
const TOKEN_TTL_S = 600;
const CALL_TIMEOUT_MS = 30_000;

interface ConsoleToken {
  instanceUuid: string;
  host: string;
  port: number;
  consoleType: string;
  expires: number;
}

/** Tokens per compute service (one map per cloud, so that clouds in one process do not share). */
const stores = new WeakMap<ComputeCore, Map<string, ConsoleToken>>();

function tokens(core: ComputeCore): Map<string, ConsoleToken> {
  let m = stores.get(core);
  if (!m) stores.set(core, (m = new Map()));
  const now = Date.now();
  for (const [k, t] of m) if (t.expires <= now) m.delete(k);
  return m;
}

/** Turn an agent call's failure into Nova's answer. */
async function agentCall<R>(inst: Instance, fn: () => Promise<R>): Promise<R> {
  try {
    return await fn();
  } catch (e) {
    const err = e as Error;
    if (err.name === "InvalidPowerState" || err.name === "InvalidInstanceState")
      throw conflict(`Instance ${inst.uuid} is not ready`);
    if (err.name === "InstanceNotFound") throw notFound("Guest does not have a console available.");
    if (err.name === "UnsupportedOperation")
      throw new ApiError(501, "The requested functionality is not supported.");
    if (["Unroutable", "RpcTimeout", "BusClosed", "BusUnavailable"].includes(err.name))
      throw conflict(`Compute service of ${inst.host} is unavailable at this time.`);
    throw e;
  }
}

/** Open a VNC console: ask the host for the display, remember a token for it, return the proxy URL. */
async function vncConsole(core: ComputeCore, inst: Instance, type: string, action: string): Promise<string> {
  const host = needHost(inst);
  if (inst.task_state === T.DELETING || inst.task_state === T.MIGRATING)
    throw conflict(`Cannot '${action}' instance ${inst.uuid} while it is in task_state ${inst.task_state}`);
  if (type !== "novnc") throw badRequest(`Invalid console type ${type}`);
  // Nova with [vnc] enabled = False: no proxy, no URL that would lead nowhere.
  const proxy = core.cfg.compute.vncProxyUrl;
  if (!proxy) throw badRequest(`Unavailable console type ${type}.`);
  const where = await agentCall(inst, () =>
    core.bus.call(agentTarget(host), "get_vnc_console", { uuid: inst.uuid }, { timeoutMs: CALL_TIMEOUT_MS }),
  );
  const token = randomBytes(24).toString("hex");
  tokens(core).set(token, {
    instanceUuid: inst.uuid,
    host: where.host,
    port: where.port,
    consoleType: type,
    expires: Date.now() + TOKEN_TTL_S * 1000,
  });
  const url = new URL(proxy);
  url.searchParams.set("path", `?token=${token}`);
  return url.toString();
}

/** A console kind no Stratus driver offers: Nova's answer when it is disabled. */
function unavailable(inst: Instance, type: string): never {
  needHost(inst);
  throw badRequest(`Unavailable console type ${type}.`);
}

/** The `type` member of a legacy console action, one of `types`. */
function consoleType(action: string, value: unknown, types: string[]): string {
  const body = closedObject(action, value, ["type"], { required: ["type"] })!;
  if (typeof body.type !== "string" || !types.includes(body.type))
    throw invalid(
      `${action}/type`,
      body.type,
      `${JSON.stringify(body.type)} is not one of ${JSON.stringify(types)}`,
    );
  return body.type;
}

const RULE = "os_compute_api:os-remote-consoles";

/** os-getConsoleOutput and the legacy console actions. */
export const consoleActions: ActionTable = {
  "os-getConsoleOutput": {
    async run(core, ctx, id, value) {
      const body = closedObject("os-getConsoleOutput", value, ["length"])!;
      let length: number | undefined;
      const raw = body.length;
      if (raw !== undefined && raw !== null) {
        const ok =
          (Number.isInteger(raw) && (raw as number) >= -1) ||
          (typeof raw === "string" && /^-?[0-9]+$/.test(raw));
        if (!ok)
          throw invalid("os-getConsoleOutput/length", raw, `${JSON.stringify(raw)} is not a valid length`);
        length = Number(raw);
      }
      const inst = await authorizedServer(core, ctx, id, "os_compute_api:os-console-output");
      const host = needHost(inst);
      const output = await agentCall(inst, () =>
        core.bus.call(
          agentTarget(host),
          "get_console_output",
          { uuid: inst.uuid, ...(length !== undefined && length >= 0 ? { length } : {}) },
          { timeoutMs: CALL_TIMEOUT_MS },
        ),
      );
      // eslint-disable-next-line no-control-regex
      return { output: output.replace(/[\x00-\x08\x0B-\x1F]/g, "") };
    },
  },

  "os-getVNCConsole": {
    max: "2.5",
    async run(core, ctx, id, value) {
      const type = consoleType("os-getVNCConsole", value, ["novnc", "xvpvnc"]);
      const inst = await authorizedServer(core, ctx, id, RULE);
      return { console: { type, url: await vncConsole(core, inst, type, "get_vnc_console") } };
    },
  },

  "os-getSPICEConsole": {
    max: "2.5",
    async run(core, ctx, id, value) {
      const type = consoleType("os-getSPICEConsole", value, ["spice-html5"]);
      unavailable(await authorizedServer(core, ctx, id, RULE), type);
    },
  },

  "os-getSerialConsole": {
    max: "2.5",
    async run(core, ctx, id, value) {
      const type = consoleType("os-getSerialConsole", value, ["serial"]);
      unavailable(await authorizedServer(core, ctx, id, RULE), type);
    },
  },

  "os-getRDPConsole": {
    max: "2.5",
    async run() {
      // RDP consoles went with the Hyper-V driver (Nova 29.0.0).
      throw badRequest(
        "The server could not comply with the request since it is either malformed or otherwise incorrect.",
      );
    },
  },
};

/** POST /servers/{id}/remote-consoles and GET /os-console-auth-tokens/{token}. */
export function consoleRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "POST",
      path: "/v2.1/servers/:id/remote-consoles",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        if (ctx.microversion.lt("2.6")) throw notFound("The resource could not be found.");
        const top = closedObject("body", ctx.body, ["remote_console"], { required: ["remote_console"] })!;
        const body = closedObject("remote_console", top.remote_console, ["protocol", "type"], {
          required: ["protocol", "type"],
        })!;
        const protocols = ["vnc", "spice", "serial", "rdp", ...(ctx.microversion.gte("2.8") ? ["mks"] : [])];
        const types = ["novnc", "xvpvnc", "spice-html5", "serial", "rdp-html5"];
        if (ctx.microversion.gte("2.8")) types.push("webmks");
        const { protocol, type } = body as { protocol: string; type: string };
        if (!protocols.includes(protocol))
          throw invalid(
            "remote_console/protocol",
            protocol,
            `${JSON.stringify(protocol)} is not one of ${JSON.stringify(protocols)}`,
          );
        if (!types.includes(type))
          throw invalid(
            "remote_console/type",
            type,
            `${JSON.stringify(type)} is not one of ${JSON.stringify(types)}`,
          );
        const inst = await authorizedServer(core, ctx, ctx.params.id, RULE);
        if (protocol === "rdp") throw badRequest(`Unavailable console type ${protocol}.`);
        if (protocol !== "vnc") unavailable(inst, type);
        const url = await vncConsole(core, inst, type, "get_vnc_console");
        return { remote_console: { protocol, type, url } };
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/os-console-auth-tokens/:token",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        if (ctx.microversion.lt("2.31"))
          throw badRequest(
            "The server could not comply with the request since it is either malformed or otherwise incorrect.",
          );
        ctx.authorize("os_compute_api:os-console-auth-tokens", { project_id: ctx.auth?.projectId ?? "" });
        const t = tokens(core).get(ctx.params.token);
        const inst = t ? await findInstance(core.db, t.instanceUuid) : undefined;
        // A token dies with its console: the server deleted or moved to another host.
        if (!t || !inst || inst.host !== t.host) throw notFound("Token not found");
        return {
          console: { instance_uuid: t.instanceUuid, host: t.host, port: t.port, internal_access_path: null },
        };
      },
    }),
  ];
}
