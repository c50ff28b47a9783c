// Waiting for the network service to plug a server's VIFs before its guest starts (Nova's InstanceEvents and
// wait_for_instance_event): the agent registers a waiter per tap VIF, then asks the conductor which ports are
// ACTIVE already (an event sent before the waiter existed is not lost), then waits for the rest's
// network-vif-plugged up to compute.vifPluggingTimeout. VIFs without a tap (a network driver with no data plane)
// are not waited for.
import { conductorContract } from "../rpc.js";
import type { Vif } from "../drivers/types.js";
import type { AgentDeps } from "./deps.js";

/** A VIF was not plugged in time, or the network service said plugging failed (Nova's VirtualInterfaceCreateException). */
export class VirtualInterfaceCreateError extends Error {
  constructor(
    readonly uuid: string,
    readonly ports: string[],
    why: string,
  ) {
    super(`Virtual Interface creation failed for instance ${uuid} (ports ${ports.join(", ")}: ${why})`);
    this.name = "VirtualInterfaceCreateError";
  }
}

/** One event an agent may wait for. */
export interface InstanceEvent {
  name: string;
  tag?: string;
  status: string;
}

const keyOf = (name: string, tag?: string) => (tag ? `${name}-${tag}` : name);

/** The events this host's agent waits for, by server and `name-tag`. */
export class InstanceEvents {
  private readonly waiting = new Map<string, Map<string, (status: string) => void>>();

  /** Register waiters for `keys` of `uuid`; each promise settles with the event's status. */
  prepare(uuid: string, keys: string[]): Map<string, Promise<string>> {
    const mine = this.waiting.get(uuid) ?? new Map<string, (status: string) => void>();
    this.waiting.set(uuid, mine);
    const out = new Map<string, Promise<string>>();
    for (const k of keys) out.set(k, new Promise<string>((resolve) => mine.set(k, resolve)));
    return out;
  }

  /** An event arrived: settle its waiter. False when nobody waited for it (Nova logs those as unexpected). */
  pop(uuid: string, ev: InstanceEvent): boolean {
    const mine = this.waiting.get(uuid);
    const key = keyOf(ev.name, ev.tag);
    const resolve = mine?.get(key);
    if (!mine || !resolve) return false;
    mine.delete(key);
    if (mine.size === 0) this.waiting.delete(uuid);
    resolve(ev.status);
    return true;
  }

  /** Drop the waiters left for `keys` of `uuid`. */
  clear(uuid: string, keys: string[]): void {
    const mine = this.waiting.get(uuid);
    if (!mine) return;
    for (const k of keys) mine.delete(k);
    if (mine.size === 0) this.waiting.delete(uuid);
  }

  /** How many waiters there are for `uuid` (tests). */
  count(uuid: string): number {
    return this.waiting.get(uuid)?.size ?? 0;
  }
}

/**
 * Run `start` (the driver step that opens the VIFs' taps) once the network service has plugged every tap VIF of
 * `vifs`. A VIF not plugged within compute.vifPluggingTimeout fails with VirtualInterfaceCreateError when
 * compute.vifPluggingIsFatal, else is logged and the guest starts anyway.
 */
export async function whenVifsPlugged<T>(
  deps: AgentDeps,
  uuid: string,
  vifs: Vif[],
  start: () => Promise<T>,
): Promise<T> {
  const { cfg, log, bus, events } = deps;
  const timeoutS = cfg.compute.vifPluggingTimeout;
  const ports = vifs.filter((v) => v.tapName).map((v) => v.id);
  if (ports.length === 0 || timeoutS <= 0) return start();
  const keys = ports.map((p) => keyOf("network-vif-plugged", p));
  const waiters = events.prepare(uuid, keys);
  let timer: NodeJS.Timeout | undefined;
  try {
    // Ports that went ACTIVE before the waiters existed sent their event already: count them as plugged.
    const statuses = await bus.call(conductorContract, "port_statuses", { uuid, portIds: ports });
    const pending = ports.filter((p) => statuses[p] !== "ACTIVE");
    for (const p of ports)
      if (!pending.includes(p))
        events.pop(uuid, { name: "network-vif-plugged", tag: p, status: "completed" });
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutS * 1000);
    });
    const failed: string[] = [];
    const late: string[] = [];
    await Promise.all(
      pending.map(async (p) => {
        const r = await Promise.race([waiters.get(keyOf("network-vif-plugged", p))!, timedOut]);
        if (r === "timeout") late.push(p);
        else if (r === "failed") failed.push(p);
      }),
    );
    if (failed.length > 0 && cfg.compute.vifPluggingIsFatal)
      throw new VirtualInterfaceCreateError(uuid, failed, "the network service failed to plug them");
    if (late.length > 0) {
      if (cfg.compute.vifPluggingIsFatal)
        throw new VirtualInterfaceCreateError(uuid, late, `not plugged within ${timeoutS} s`);
      log.warn({ uuid, ports: late, timeoutS }, "VIFs not plugged in time; starting the guest anyway");
    }
  } finally {
    if (timer) clearTimeout(timer);
    events.clear(uuid, keys);
  }
  return start();
}
