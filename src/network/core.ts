import { randomBytes, randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { ArgsOf, Bus, CastNames } from "../shared/bus/index.js";
import type { Config } from "../shared/config.js";
import type { Engine } from "../shared/db/index.js";
import { ComputeNotifier } from "./compute-notifier.js";
import { networkAgentContract } from "./rpc.js";

/** Who asks, as the network store sees it: the project, and whether the caller sees every project's resources. */
export interface Caller {
  projectId: string | null;
  /** A cloud admin: sees and changes everything (Neutron's context.is_admin). */
  isAdmin: boolean;
  /** Sees everything (admin or cloud reader), read-only unless isAdmin. */
  readsAll: boolean;
}

/** Tells the network agents what changed (by fanout, after the change committed); silent until connected. */
export class AgentNotifier {
  private bus: Bus | null = null;

  constructor(private readonly log: Logger) {}

  /** Start sending on a bus. */
  connect(bus: Bus): void {
    this.bus = bus;
  }

  /** A network was created or changed. */
  networkUpdated(networkId: string): void {
    this.send("network_update", { networkId });
  }

  /** A network was deleted. */
  networkDeleted(networkId: string): void {
    this.send("network_delete", { networkId });
  }

  /** A port was created or changed. */
  portUpdated(portId: string): void {
    this.send("port_update", { portId });
  }

  /** A port was deleted. */
  portDeleted(portId: string, networkId: string): void {
    this.send("port_delete", { portId, networkId });
  }

  /** A router (or its interfaces, gateway, routes, floating IPs, port forwardings) changed; null ids are skipped. */
  routerUpdated(...routerIds: Array<string | null | undefined>): void {
    for (const routerId of new Set(routerIds)) if (routerId) this.send("router_update", { routerId });
  }

  /** A router was deleted. */
  routerDeleted(routerId: string): void {
    this.send("router_delete", { routerId });
  }

  /** Security groups' rules changed (or a group was deleted). */
  securityGroupsUpdated(securityGroupIds: string[]): void {
    this.send("security_group_update", { securityGroupIds });
  }

  private send<K extends CastNames<typeof networkAgentContract>>(
    method: K,
    args: ArgsOf<typeof networkAgentContract, K>,
  ): void {
    const bus = this.bus;
    if (!bus) return;
    // Best effort, as Neutron's notifications: an agent that missed it converges at its next resync.
    bus
      .fanout(networkAgentContract, method, args)
      .catch((err: unknown) => this.log.warn({ err, method }, "network: notifying the agents failed"));
  }
}

/** Shared state of the network service used by its store modules and routes. */
export class NetworkCore {
  /** Random bytes for MACs and IP candidates (replaceable in tests to force collisions). */
  random: (n: number) => Buffer = randomBytes;

  constructor(
    /** Untyped handle; store modules narrow it to the network tables. */
    readonly db: Kysely<any>,
    readonly engine: Engine,
    readonly cfg: Config,
    readonly log: Logger,
    readonly notify: AgentNotifier,
    /** Tells compute about its servers' ports (compute-notifier.ts). */
    readonly computeEvents: ComputeNotifier = new ComputeNotifier(log),
  ) {}

  /** The same core on another handle (a transaction): store functions given it run inside that transaction. */
  withDb(db: Kysely<any>): NetworkCore {
    const c = new NetworkCore(db, this.engine, this.cfg, this.log, this.notify, this.computeEvents);
    c.random = this.random;
    return c;
  }

  /**
   * Run `fn` in a transaction (or in the one this core already is in), with a core bound to it. READ COMMITTED on
   * the server engines, so that a retry after losing a race (an address, MAC or id taken) sees the winner's row.
   */
  transaction<T>(fn: (core: NetworkCore) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    const trx = this.db.transaction();
    return (this.engine === "sqlite" ? trx : trx.setIsolationLevel("read committed")).execute((t) =>
      fn(this.withDb(t)),
    );
  }

  /** A new resource id: a dashed UUID, as Neutron uses. */
  newId(): string {
    return randomUUID();
  }
}
