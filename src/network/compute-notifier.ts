// Telling compute about its servers' ports (Neutron's nova notifier): a compute-owned port going ACTIVE is a
// `network-vif-plugged` event, a change of its addresses or floating IPs a `network-changed` one, its deletion a
// `network-vif-deleted` one. Events go to
// compute's public API (POST /os-server-external-events) as a service user, the mirror image of compute's own
// network client; sending is best effort and never delays or fails the change that caused it.
import type { Logger } from "pino";
import type { ServiceClient } from "../shared/client/service-client.js";
import type { NetworkCore } from "./core.js";
import { getPort, setPortStatus, type Port } from "./store/ports.js";

/** One external event as compute takes it. */
export interface ComputeEvent {
  name: "network-vif-plugged" | "network-vif-unplugged" | "network-changed" | "network-vif-deleted";
  server_uuid: string;
  tag: string;
  status: "completed" | "failed";
}

/** A port a compute server owns (device_owner compute:<zone>, device_id the server). */
const computeOwned = (p: Pick<Port, "device_owner" | "device_id">): boolean =>
  p.device_owner.startsWith("compute:") && p.device_id !== "";

/** Sends events to compute; silent until connected (a network service without compute). */
export class ComputeNotifier {
  private client: ServiceClient | null = null;
  /** Sends in flight (tests and shutdown wait for them). */
  private pending = new Set<Promise<void>>();

  constructor(private readonly log: Logger) {}

  /** Start sending through `client`, a client of the compute API below /compute (with its own token). */
  connect(client: ServiceClient): void {
    this.client = client;
  }

  /** Send events (best effort, in the background). */
  send(events: ComputeEvent[]): void {
    const client = this.client;
    if (!client || events.length === 0) return;
    const p = client
      .request("POST", "/v2.1/os-server-external-events", { body: { events } })
      .then((res) => {
        if (res.status !== 200 && res.status !== 207)
          this.log.warn({ status: res.status, events: events.length }, "network: compute refused events");
      })
      .catch((err: Error) => this.log.warn({ err: err.message }, "network: sending events to compute failed"))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Wait for the events sent so far. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}

/**
 * Set a port's status as its host's agent found it; a compute-owned port that becomes ACTIVE tells compute
 * `network-vif-plugged` (the tap is ready), one that stops being ACTIVE `network-vif-unplugged`. `port` is the
 * agent's snapshot, which a slow plug may have outlived (the port unbound and bound to another server meanwhile):
 * the change and the event are worked out from the port as it is now, and nothing is set for a port that left the
 * snapshot's host (that host's agent reports it).
 */
export async function reportPortStatus(core: NetworkCore, port: Port, status: string): Promise<void> {
  const now = await getPort(core, port.id);
  if (!now || now.binding_host_id !== port.binding_host_id) return;
  await setPortStatus(core, now.id, status);
  if (status === now.status || !computeOwned(now)) return;
  const name =
    status === "ACTIVE" ? "network-vif-plugged" : now.status === "ACTIVE" ? "network-vif-unplugged" : null;
  if (name) core.computeEvents.send([{ name, server_uuid: now.device_id, tag: now.id, status: "completed" }]);
}

/** A server's port was deleted (by its user, or by compute itself): compute drops it from the server's cache. */
export function notifyPortDeleted(core: NetworkCore, port: Port): void {
  if (computeOwned(port))
    core.computeEvents.send([
      { name: "network-vif-deleted", server_uuid: port.device_id, tag: port.id, status: "completed" },
    ]);
}

/** Tell compute that these ports' addresses or floating IPs changed (network-changed for each compute-owned one). */
export async function notifyNetworkChanged(core: NetworkCore, portIds: Array<string | null>): Promise<void> {
  const events: ComputeEvent[] = [];
  for (const id of new Set(portIds)) {
    const p = id ? await getPort(core, id) : null;
    if (p && computeOwned(p))
      events.push({ name: "network-changed", server_uuid: p.device_id, tag: p.id, status: "completed" });
  }
  core.computeEvents.send(events);
}
