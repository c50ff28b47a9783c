// What the linux driver made on its host, kept in a file of its state directory: the networks whose bridges it owns
// (with their conntrack zones) and the ports whose taps it owns, plus a fingerprint of the last firewall and of each
// router it applied. A restarted agent reads it to find its own objects among the host's (another cloud's bridges
// and taps may share the namespace: only what is listed here is ever removed) and to skip re-applying unchanged
// rules, so iptables counters and connections of unchanged chains survive a restart.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** The driver's record of its host. */
export interface InventoryData {
  /** Network id -> conntrack zone (1..65535). */
  networks: Record<string, number>;
  /** Port id -> network id (ports with a tap of ours). */
  ports: Record<string, string>;
  /** Fingerprint of the last firewall applied. */
  firewall: string | null;
  /** Router id -> fingerprint of its last applied spec. */
  routers: Record<string, string>;
}

/** The inventory file of one host, loaded once and written after every change. */
export class Inventory {
  private data: InventoryData;

  constructor(
    private readonly path: string,
    /** Where zone allocation starts (1..65535). */
    private readonly zoneBase = 1,
  ) {
    this.data = { networks: {}, ports: {}, firewall: null, routers: {} };
    try {
      const d = JSON.parse(readFileSync(path, "utf8")) as Partial<InventoryData>;
      this.data = {
        networks: { ...d.networks },
        ports: { ...d.ports },
        firewall: d.firewall ?? null,
        routers: { ...d.routers },
      };
    } catch {
      // no inventory yet: nothing is ours
    }
  }

  /** The networks with a bridge of ours. */
  networks(): string[] {
    return Object.keys(this.data.networks);
  }

  /** The ports with a tap of ours. */
  ports(): string[] {
    return Object.keys(this.data.ports);
  }

  /** The network of a port of ours. */
  portNetwork(portId: string): string | undefined {
    return Object.hasOwn(this.data.ports, portId) ? this.data.ports[portId] : undefined;
  }

  /** The network's conntrack zone, allocated (the first free from the base) on first use. */
  zone(networkId: string): number {
    if (Object.hasOwn(this.data.networks, networkId)) return this.data.networks[networkId];
    const used = new Set(Object.values(this.data.networks));
    if (used.size >= 65535) throw new Error("no conntrack zone left");
    let z = this.zoneBase;
    while (used.has(z)) z = (z % 65535) + 1;
    this.data.networks[networkId] = z;
    this.save();
    return z;
  }

  /** Forget a network (and its ports). */
  dropNetwork(networkId: string): void {
    delete this.data.networks[networkId];
    for (const [p, n] of Object.entries(this.data.ports)) if (n === networkId) delete this.data.ports[p];
    this.save();
  }

  /** Record a port's tap. */
  addPort(portId: string, networkId: string): void {
    if (this.data.ports[portId] === networkId) return;
    this.data.ports[portId] = networkId;
    this.save();
  }

  /** Forget a port's tap. */
  dropPort(portId: string): void {
    if (!Object.hasOwn(this.data.ports, portId)) return;
    delete this.data.ports[portId];
    this.save();
  }

  /** The last firewall fingerprint. */
  get firewall(): string | null {
    return this.data.firewall;
  }

  set firewall(f: string | null) {
    this.data.firewall = f;
    this.save();
  }

  /** The last applied fingerprint of a router. */
  router(id: string): string | undefined {
    return Object.hasOwn(this.data.routers, id) ? this.data.routers[id] : undefined;
  }

  /** Record (or, with null, forget) a router's fingerprint. */
  setRouter(id: string, fingerprint: string | null): void {
    if (fingerprint === null) delete this.data.routers[id];
    else this.data.routers[id] = fingerprint;
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
    writeFileSync(`${this.path}.tmp`, JSON.stringify(this.data, null, 1), { mode: 0o644 });
    renameSync(`${this.path}.tmp`, this.path);
  }
}
