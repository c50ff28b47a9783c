// The `noop` network driver: keeps what it was told in memory and changes nothing on the host. It is the
// reference for the driver contract (types.ts), what unprivileged runs and the fake compute driver use, and what
// the tests inspect to see that the agent plugged and unplugged what the database says.
import type { DataPlaneState, NetworkDriver, NetworkSpec, PortSpec, VifBinding } from "./types.js";

/** Options of the noop driver. */
export interface NoopDriverOptions {
  /** The VIF type bound ports get (default "tap": a compute driver makes the tap itself). */
  vifType?: string;
}

/** A driver with an in-memory data plane. */
export class NoopDriver implements NetworkDriver {
  readonly name = "noop";
  readonly realDataPlane = false;
  /** Networks "built" on this host, by id. */
  readonly networks = new Map<string, NetworkSpec>();
  /** Ports "plugged" on this host, by id. */
  readonly ports = new Map<string, PortSpec>();
  private readonly vifType: string;

  constructor(opts: NoopDriverOptions = {}) {
    this.vifType = opts.vifType ?? "tap";
  }

  async init(_host: string): Promise<void> {}

  binding(port: PortSpec): VifBinding {
    return {
      vifType: this.vifType,
      vifDetails: { port_filter: port.portSecurityEnabled, connectivity: "l2" },
    };
  }

  async ensureNetwork(net: NetworkSpec): Promise<void> {
    this.networks.set(net.id, net);
  }

  async deleteNetwork(networkId: string): Promise<void> {
    this.networks.delete(networkId);
    for (const [id, p] of this.ports) if (p.networkId === networkId) this.ports.delete(id);
  }

  async plugPort(port: PortSpec, net: NetworkSpec): Promise<void> {
    this.networks.set(net.id, net);
    this.ports.set(port.id, port);
  }

  async unplugPort(portId: string): Promise<void> {
    this.ports.delete(portId);
  }

  async state(): Promise<DataPlaneState> {
    return { networks: [...this.networks.keys()], ports: [...this.ports.keys()] };
  }

  async close(): Promise<void> {}
}
