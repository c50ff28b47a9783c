// Telling compute about its servers' volumes, as Cinder's nova notifier does: a grown attached volume is a
// `volume-extended` event (tag: the volume id) on compute's public API (POST /os-server-external-events), sent as
// the service user; best effort, it never fails the change that caused it.
import type { Logger } from "pino";
import type { ServiceClient } from "../shared/client/service-client.js";

/** One external event as compute takes it. */
export interface VolumeComputeEvent {
  name: "volume-extended";
  server_uuid: string;
  tag: string;
  status: "completed" | "failed";
}

/** Sends events to compute; silent until connected. */
export class ComputeNotifier {
  private client: ServiceClient | null = null;
  private pending = new Set<Promise<void>>();
  /** Every event sent (tests read it). */
  readonly sent: VolumeComputeEvent[] = [];

  constructor(private readonly log: Logger) {}

  /** Start sending through `client`, a client of the compute API below /compute. */
  connect(client: ServiceClient): void {
    this.client = client;
  }

  /** Send events (in the background). */
  send(events: VolumeComputeEvent[]): void {
    const client = this.client;
    if (events.length === 0) return;
    this.sent.push(...events);
    if (!client) return;
    const p = client
      // volume-extended exists from compute 2.51 (what Cinder's nova client asks for).
      .request("POST", "/v2.1/os-server-external-events", {
        body: { events },
        headers: { "openstack-api-version": "compute 2.51" },
      })
      .then((res) => {
        if (res.status !== 200 && res.status !== 207)
          this.log.warn({ status: res.status }, "volume: compute refused events");
      })
      .catch((err: Error) => this.log.warn({ err: err.message }, "volume: sending events to compute failed"))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Wait for the events sent so far. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
