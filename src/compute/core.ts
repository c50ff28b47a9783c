import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Bus } from "../shared/bus/index.js";
import type { ServiceClient } from "../shared/client/service-client.js";
import type { Config } from "../shared/config.js";
import type { NetworkClient } from "./network-client.js";
import type { PlacementClient } from "./placement-client.js";
import type { VolumeClient } from "./volume-client.js";

/** Clients of other services the compute control plane uses (set once the shared listener exists). */
export interface ComputeClients {
  placement: PlacementClient;
  /** The image API below /image, called with the user's token (ClientRequest.token). */
  image: ServiceClient;
  /** The network API below /networking, called with the user's token; absent when no network service runs. */
  network?: ServiceClient;
  /** Nova's client of the networking API for ports (as the cloud admin), when the catalog has a network service. */
  neutron?: NetworkClient;
  /** Nova's client of the block storage API (as the cloud admin), when the catalog has a volume service. */
  volume?: VolumeClient;
}

/** Shared state of the compute service used by its routes, the conductor and the scheduler. */
export class ComputeCore {
  private clientsValue: ComputeClients | null = null;
  private busValue: Bus | null = null;

  constructor(
    /** Untyped handle; modules narrow it to their own tables. */
    readonly db: Kysely<any>,
    readonly log: Logger,
    readonly cfg: Config,
  ) {}

  /** Wire the bus and the service clients (startCloud does it after the listener is built). */
  connect(bus: Bus, clients: ComputeClients): void {
    this.busValue = bus;
    this.clientsValue = clients;
  }

  get bus(): Bus {
    if (!this.busValue) throw new Error("compute: the bus is not connected yet");
    return this.busValue;
  }

  get placement(): PlacementClient {
    if (!this.clientsValue) throw new Error("compute: service clients are not connected yet");
    return this.clientsValue.placement;
  }

  /** The network service's client, or null when the cloud runs none (Nova's proxies then answer on their own). */
  get network(): ServiceClient | null {
    return this.clientsValue?.network ?? null;
  }

  /** The ports client, or undefined when there is no network service (servers then get no ports). */
  get neutron(): NetworkClient | undefined {
    if (!this.clientsValue) throw new Error("compute: service clients are not connected yet");
    return this.clientsValue.neutron;
  }

  /** The block storage client, or undefined when the cloud runs no volume service (volume requests then fail). */
  get volume(): VolumeClient | undefined {
    return this.clientsValue?.volume;
  }

  /** Set (or replace) the block storage client after connect (a block storage service started later; tests). */
  connectVolume(client: VolumeClient | undefined): void {
    if (!this.clientsValue) throw new Error("compute: service clients are not connected yet");
    this.clientsValue = { ...this.clientsValue, volume: client };
  }

  get image(): ServiceClient {
    if (!this.clientsValue) throw new Error("compute: service clients are not connected yet");
    return this.clientsValue.image;
  }
}
