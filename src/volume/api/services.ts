// PUT /os-services/{action}: enable, disable, disable-log-reason, freeze and thaw (Cinder's services controller).
import type { VolumeCore } from "../core.js";
import { invalidInput, notFound } from "../errors.js";
import { agentOf, serviceHostName, VOLUME_BINARY } from "../scheduler.js";
import { listServices, setServiceDisabled } from "../store/services.js";
import { objectBody, optString, type Ctx } from "./common.js";

const ACTIONS = ["enable", "disable", "disable-log-reason", "freeze", "thaw"];

/** The body of a service update, as Cinder answers each action. */
export async function updateService(core: VolumeCore, ctx: Ctx): Promise<Record<string, unknown>> {
  const action = ctx.params.action;
  if (!ACTIONS.includes(action)) throw notFound("Unknown action");
  const b = objectBody(ctx);
  const host = optString(b, "host", 255);
  if (!host) throw invalidInput("Missing required element 'host' in request body.");
  if (action === "freeze" || action === "thaw") {
    // Freeze and thaw are for replication failover; Stratus's backends do not replicate.
    const known = (await listServices(core)).some((s) => agentOf(s.host) === agentOf(host));
    if (!known) throw invalidInput(`No service found with host=${host}.`);
    throw invalidInput(`Host ${host} has no replicated backend to ${action}.`);
  }
  const binary = optString(b, "binary", 255) ?? VOLUME_BINARY;
  let reason: string | null = null;
  if (action === "disable-log-reason") {
    const r = optString(b, "disabled_reason", 255);
    if (!r || !r.trim()) throw invalidInput("Disabled reason contains invalid characters or is too long");
    reason = r;
  }
  const disabled = action !== "enable";
  // "host@backend" names one volume service, a bare host every service of its binary there.
  const hosts = (await listServices(core))
    .filter((s) => s.binary === binary)
    .filter((s) => serviceHostName(s) === host || s.host === host || agentOf(s.host) === host)
    .map((s) => s.host);
  if (!(await setServiceDisabled(core, hosts, binary, disabled, reason)))
    throw notFound(`Service ${binary} on host ${host} could not be found.`);
  const body: Record<string, unknown> = {
    host,
    service: binary,
    binary,
    status: disabled ? "disabled" : "enabled",
    disabled,
  };
  if (action !== "disable") body.disabled_reason = reason;
  return body;
}
