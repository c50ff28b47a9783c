import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import {
  target,
  type ArgsOf,
  type Bus,
  type CallNames,
  type CastNames,
  type ResultOf,
} from "../shared/bus/index.js";
import type { Config } from "../shared/config.js";
import type { Engine } from "../shared/db/index.js";
import type { SwiftRequest } from "./backup/swift.js";
import { ComputeNotifier } from "./compute-notifier.js";
import type { ImageWriter } from "./image-writer.js";
import { volumeAgentContract } from "./rpc.js";

/** Who asks, as the volume store sees it. */
export interface Caller {
  projectId: string | null;
  userId: string;
  /** A cloud admin: sees and changes every project's volumes (Cinder's context.is_admin). */
  isAdmin: boolean;
  /** Reads every project (admin or cloud reader). */
  readsAll: boolean;
}

/** An image as the volume service reads it through the image API. */
export interface ImageInfo {
  id: string;
  status: string;
  diskFormat: string;
  sizeBytes: number | null;
  minDisk: number;
  properties: Record<string, unknown>;
}

/** Reads images through the image service's public API (a service client); null when there is none. */
export interface ImageReader {
  /** The image's record, or null when it does not exist or is not visible. */
  describe(id: string): Promise<ImageInfo | null>;
  /** The image's data. */
  open(id: string): Promise<Readable>;
}

/** Sends the volume agents their work over the bus (silent until connected: volumes then stay in creating). */
export class AgentCaster {
  private bus: Bus | null = null;

  constructor(private readonly log: Logger) {}

  /** Start sending on a bus. */
  connect(bus: Bus): void {
    this.bus = bus;
  }

  /** The bus, once connected. */
  get connected(): Bus | null {
    return this.bus;
  }

  /** Cast `method` to the agent of `host`. */
  async cast<K extends CastNames<typeof volumeAgentContract>>(
    host: string,
    method: K,
    args: ArgsOf<typeof volumeAgentContract, K>,
  ): Promise<void> {
    if (!this.bus) {
      this.log.warn({ method, host }, "volume: no bus, the agent is not told");
      return;
    }
    await this.bus.cast(target(volumeAgentContract, host), method, args);
  }

  /** Call `method` of the agent of `host` and wait for its answer (rejects when not connected). */
  async call<K extends CallNames<typeof volumeAgentContract>>(
    host: string,
    method: K,
    args: ArgsOf<typeof volumeAgentContract, K>,
  ): Promise<ResultOf<typeof volumeAgentContract, K>> {
    if (!this.bus) throw new Error("the volume service is not connected to its agents");
    return this.bus.call(target(volumeAgentContract, host), method, args, { timeoutMs: 120_000 });
  }
}

/** Shared state of the block storage service used by its store modules, routes and agent. */
export class VolumeCore {
  /** Reads images for volumes created from one (set when the cloud connects the image service). */
  images: ImageReader | null = null;
  /** Creates and uploads images for volumes uploaded to one (set with `images`). */
  imageWriter: ImageWriter | null = null;
  /** The object storage service's Swift API as a service client (backups), set when the cloud runs it. */
  swift: SwiftRequest | null = null;

  constructor(
    /** Untyped handle; store modules narrow it to the volume tables. */
    readonly db: Kysely<any>,
    readonly engine: Engine,
    readonly cfg: Config,
    readonly log: Logger,
    readonly agents: AgentCaster,
    /** Tells compute about its servers' volumes (volume-extended). */
    readonly computeEvents: ComputeNotifier = new ComputeNotifier(log),
  ) {}

  /** The same core on another handle (a transaction). */
  withDb(db: Kysely<any>): VolumeCore {
    const c = new VolumeCore(db, this.engine, this.cfg, this.log, this.agents, this.computeEvents);
    c.images = this.images;
    c.imageWriter = this.imageWriter;
    c.swift = this.swift;
    return c;
  }

  /** Run `fn` in a transaction (or the one this core already is in). */
  transaction<T>(fn: (core: VolumeCore) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((t) => fn(this.withDb(t)));
  }

  /** A new resource id (dashed UUID). */
  newId(): string {
    return randomUUID();
  }
}
