// Consoles: os-getConsoleOutput, the legacy os-get*Console actions (2.1-2.5), POST /servers/{id}/remote-consoles
// (2.6) and GET /os-console-auth-tokens/{token} (admin, 2.31). VNC (noVNC) and serial consoles go through the
// built-in console proxy (/vnc, /serial on the public listener; src/compute/consoles/) with single-use tokens kept
// in the database; compute.vncProxyUrl points VNC URLs at another noVNC page instead. SPICE, RDP and MKS consoles
// do not exist here (as a Nova with them disabled).
import { ApiError } from "../../../shared/http/errors.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { ComputeCore } from "../../core.js";
import { issueConsoleToken, showConsoleToken } from "../../consoles/tokens.js";
import { badRequest, conflict, notFound } from "../../errors.js";
import { findInstance, type Instance } from "../../instances/store.js";
import { TaskState as T } from "../../instances/states.js";
import { invalid, type Ctx } from "../common.js";
import { agentTarget, authorizedServer, closedObject, needHost, type ActionTable } from "./common.js";

const CALL_TIMEOUT_MS = 30_000;

/** Turn an agent call's failure into Nova's answer; `type`: a console type the host's driver may lack. */
async function agentCall<R>(inst: Instance, fn: () => Promise<R>, type?: string): Promise<R> {
  try {
    return await fn();
  } catch (e) {
    const err = e as Error;
    if (err.name === "InvalidPowerState" || err.name === "InvalidInstanceState")
      throw conflict(`Instance ${inst.uuid} is not ready`);
    if (err.name === "InstanceNotFound") throw notFound("Guest does not have a console available.");
    if (err.name === "UnsupportedOperation" && type) throw badRequest(`Unavailable console type ${type}.`);
    if (err.name === "UnsupportedOperation")
      throw new ApiError(501, "The requested functionality is not supported.");
    if (["Unroutable", "RpcTimeout", "BusClosed", "BusUnavailable"].includes(err.name))
      throw conflict(`Compute service of ${inst.host} is unavailable at this time.`);
    throw e;
  }
}

/** Open a console (VNC or serial): ask the host for the endpoint, store a token for it, return the URL. */
async function openConsole(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  kind: "vnc" | "serial",
  type: string,
  action: string,
): Promise<string> {
  const host = needHost(inst);
  if (inst.task_state === T.DELETING || inst.task_state === T.MIGRATING)
    throw conflict(`Cannot '${action}' instance ${inst.uuid} while it is in task_state ${inst.task_state}`);
  const cfg = core.cfg.compute;
  if (kind === "vnc" && type !== "novnc") throw badRequest(`Invalid console type ${type}`);
  // Nova with [vnc] / [serial_console] enabled = False: no URL that would lead nowhere.
  if (!(kind === "vnc" ? cfg.consoles.vnc : cfg.consoles.serial))
    throw badRequest(`Unavailable console type ${type}.`);
  const method = kind === "vnc" ? "get_vnc_console" : "get_serial_console";
  const where = await agentCall(
    inst,
    () => core.bus.call(agentTarget(host), method, { uuid: inst.uuid }, { timeoutMs: CALL_TIMEOUT_MS }),
    type,
  );
  const token = await issueConsoleToken(
    core.db,
    { instanceUuid: inst.uuid, consoleType: type, computeHost: host, host: where.host, port: where.port },
    cfg.consoles.tokenTtl,
  );
  const base = (core.cfg.publicUrl ?? ctx.origin).replace(/\/$/, "");
  if (kind === "serial") {
    const url = new URL(`${base.replace(/^http/, "ws")}/serial`);
    url.searchParams.set("token", token);
    return url.toString();
  }
  // noVNC's page reads the websocket path from `path` (Nova's novncproxy_base_url form).
  const url = new URL(cfg.vncProxyUrl ?? `${base}/vnc/vnc_lite.html`);
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
      return { console: { type, url: await openConsole(core, ctx, inst, "vnc", type, "get_vnc_console") } };
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
      const inst = await authorizedServer(core, ctx, id, RULE);
      return {
        console: { type, url: await openConsole(core, ctx, inst, "serial", type, "get_serial_console") },
      };
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
        if (protocol === "serial" && type === "serial") {
          const url = await openConsole(core, ctx, inst, "serial", type, "get_serial_console");
          return { remote_console: { protocol, type, url } };
        }
        if (protocol !== "vnc") unavailable(inst, type);
        const url = await openConsole(core, ctx, inst, "vnc", type, "get_vnc_console");
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
        const t = await showConsoleToken(core.db, ctx.params.token);
        const inst = t ? await findInstance(core.db, t.instanceUuid) : undefined;
        // A token dies with its console: the server deleted or moved to another host.
        if (!t || !inst || inst.host !== t.computeHost) throw notFound("Token not found");
        return {
          console: { instance_uuid: t.instanceUuid, host: t.host, port: t.port, internal_access_path: null },
        };
      },
    }),
  ];
}
