import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Bus } from "../../shared/bus/index.js";
import type { Config } from "../../shared/config.js";
import type { InstanceSpec, VirtDriver } from "../drivers/types.js";
import type { Instance } from "../instances/store.js";
import type { InstanceEvents } from "./vif-events.js";

/** What an agent's RPC handlers work with: one host, its driver, the DB and the bus. */
export interface AgentDeps {
  host: string;
  driver: VirtDriver;
  db: Kysely<any>;
  bus: Bus;
  log: Logger;
  cfg: Config;
  /** Run `fn` while holding this host's lock on one instance (Nova's per-instance lock). */
  lock<T>(uuid: string, fn: () => Promise<T>): Promise<T>;
  /** The driver's view of an instance row (flavor sizes resolved). */
  spec(inst: Instance): InstanceSpec;
  /** Re-read the driver's power state of an instance and store it. */
  syncPower(uuid: string): Promise<void>;
  /** The events this host waits for (network-vif-plugged before a guest starts). */
  events: InstanceEvents;
}
