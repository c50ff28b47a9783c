// Typed calls for the instance actions beyond start/stop (pause, suspend, resize, snapshot, rebuild, rescue, lock,
// shelve, reboots), the states Nova allows each in, the action log, interfaces, volume attachments and consoles.
import type { Api } from "./client.js";

/** An action of the instance menu. */
export type ServerAction =
  | "pause"
  | "unpause"
  | "suspend"
  | "resume"
  | "resize"
  | "confirmResize"
  | "revertResize"
  | "createImage"
  | "rebuild"
  | "rescue"
  | "unrescue"
  | "lock"
  | "unlock"
  | "shelve"
  | "unshelve"
  | "softReboot"
  | "hardReboot";

/** The statuses each action is accepted in (Nova's vm_state checks, as the API status shows them). */
const ALLOWED: ReadonlyMap<ServerAction, readonly string[]> = new Map<ServerAction, readonly string[]>([
  ["pause", ["ACTIVE"]],
  ["unpause", ["PAUSED"]],
  ["suspend", ["ACTIVE"]],
  ["resume", ["SUSPENDED"]],
  ["resize", ["ACTIVE", "SHUTOFF"]],
  ["confirmResize", ["VERIFY_RESIZE"]],
  ["revertResize", ["VERIFY_RESIZE"]],
  ["createImage", ["ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"]],
  ["rebuild", ["ACTIVE", "SHUTOFF", "ERROR"]],
  ["rescue", ["ACTIVE", "SHUTOFF", "ERROR"]],
  ["unrescue", ["RESCUE"]],
  ["shelve", ["ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"]],
  ["unshelve", ["SHELVED", "SHELVED_OFFLOADED"]],
  ["softReboot", ["ACTIVE"]],
  ["hardReboot", ["ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR"]],
]);

/** What decides whether an action is offered: the status, the task under way and the lock. */
export interface ServerState {
  status: string;
  "OS-EXT-STS:task_state"?: string | null;
  locked?: boolean;
}

/** Whether Nova would accept `action` on a server in this state (a locked server takes only unlock and lock). */
export function actionAllowed(action: ServerAction, s: ServerState): boolean {
  if (action === "lock") return !s.locked;
  if (action === "unlock") return !!s.locked;
  if (s.locked || s["OS-EXT-STS:task_state"]) return false;
  return ALLOWED.get(action)?.includes(s.status) ?? false;
}

/** The body of an action that takes no input. */
const SIMPLE: ReadonlyMap<ServerAction, unknown> = new Map<ServerAction, unknown>([
  ["pause", { pause: null }],
  ["unpause", { unpause: null }],
  ["suspend", { suspend: null }],
  ["resume", { resume: null }],
  ["confirmResize", { confirmResize: null }],
  ["revertResize", { revertResize: null }],
  ["unrescue", { unrescue: null }],
  ["lock", { lock: null }],
  ["unlock", { unlock: null }],
  ["shelve", { shelve: null }],
  ["unshelve", { unshelve: null }],
  ["softReboot", { reboot: { type: "SOFT" } }],
  ["hardReboot", { reboot: { type: "HARD" } }],
]);

/** Whether an action needs a dialog (it takes a flavor, a name, an image...). */
export const needsInput = (a: ServerAction): boolean => !SIMPLE.has(a);

/** One entry of a server's action log (os-instance-actions). */
export interface InstanceAction {
  action: string;
  request_id: string;
  user_id: string;
  start_time: string;
  message: string | null;
  updated_at?: string | null;
}

/** A port attached to a server (os-interface). */
export interface ServerInterface {
  port_id: string;
  net_id: string;
  port_state: string;
  mac_addr: string;
  fixed_ips: Array<{ ip_address: string; subnet_id: string }>;
}

/** A volume attached to a server. */
export interface ServerVolume {
  id: string;
  volumeId: string;
  device: string | null;
}

const q = (s: string) => encodeURIComponent(s);
const C = "compute";

/** The WebSocket URL noVNC connects to, from the console URL Nova hands out (`?path=%3Ftoken%3D...`). */
export function consoleSocket(consoleUrl: string, location: { protocol: string; host: string }): string {
  const u = new URL(consoleUrl, "http://x/");
  const path = (u.searchParams.get("path") ?? "").replace(/^\/+/, "");
  const token = u.searchParams.get("token");
  const tail = path || (token ? `?token=${q(token)}` : "");
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/vnc/${tail}`;
}

/** The instance action calls, bound to one Api. */
export function serverActionCalls(api: Api) {
  const act = (id: string, body: unknown) =>
    api.call(C, `/servers/${q(id)}/action`, { method: "POST", body, raw: true });
  return {
    /** Run an action that takes no input. */
    simple: (id: string, a: ServerAction): Promise<void> => {
      const body = SIMPLE.get(a);
      if (body === undefined) throw new Error(`${a} needs input`);
      return act(id, body);
    },
    resize: (id: string, flavorRef: string): Promise<void> => act(id, { resize: { flavorRef } }),
    createImage: async (id: string, name: string): Promise<string> =>
      (await api.post(C, `/servers/${q(id)}/action`, { createImage: { name } })).image_id,
    rebuild: (id: string, imageRef: string, name?: string): Promise<void> =>
      act(id, { rebuild: { imageRef, ...(name ? { name } : {}) } }),
    /** Rescue; resolves with the rescue password Nova generated. */
    rescue: async (id: string, imageRef?: string): Promise<string> =>
      (
        await api.post(C, `/servers/${q(id)}/action`, {
          rescue: imageRef ? { rescue_image_ref: imageRef } : null,
        })
      ).adminPass,
    /** The action log, newest first. */
    actions: async (id: string): Promise<InstanceAction[]> =>
      (await api.get(C, `/servers/${q(id)}/os-instance-actions`)).instanceActions,
    interfaces: async (id: string): Promise<ServerInterface[]> =>
      (await api.get(C, `/servers/${q(id)}/os-interface`)).interfaceAttachments,
    attachInterface: async (id: string, netId: string): Promise<ServerInterface> =>
      (await api.post(C, `/servers/${q(id)}/os-interface`, { interfaceAttachment: { net_id: netId } }))
        .interfaceAttachment,
    detachInterface: (id: string, portId: string) =>
      api.del(C, `/servers/${q(id)}/os-interface/${q(portId)}`),
    volumes: async (id: string): Promise<ServerVolume[]> =>
      (await api.get(C, `/servers/${q(id)}/os-volume_attachments`)).volumeAttachments,
    /** A one-use noVNC console URL. */
    vncConsole: async (id: string): Promise<string> =>
      (
        await api.post(C, `/servers/${q(id)}/remote-consoles`, {
          remote_console: { protocol: "vnc", type: "novnc" },
        })
      ).remote_console.url,
  };
}

/** The instance action calls' type. */
export type ServerActionCalls = ReturnType<typeof serverActionCalls>;
