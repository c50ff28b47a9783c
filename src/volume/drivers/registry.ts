// The volume backends an agent can be configured with, by name (as the network driver registry), and its
// transports. Adding a backend is one line here; the map's type gives VolumeBackendName and each one's options.
import { FakeBackend } from "./fake.js";
import { FileBackend, type FileBackendOptions } from "./file.js";
import { NbdTransport, type NbdTransportOptions } from "./nbd.js";
import { TgtTransport, type TgtTransportOptions } from "./tgt.js";
import type { VolumeTransport } from "./transports.js";
import type { BlockHolder, VolumeBackend } from "./types.js";

/** Options of the fake backend. */
export interface FakeBackendOptions {
  capacityGb?: number;
}

const factories = {
  file: async (opts?: FileBackendOptions) => {
    if (!opts) throw new Error("the file volume backend needs its options (dir)");
    return new FileBackend(opts) as VolumeBackend;
  },
  fake: async (opts?: FakeBackendOptions) => new FakeBackend(opts?.capacityGb) as VolumeBackend,
} satisfies Record<string, (opts?: never) => Promise<VolumeBackend>>;

type Factories = typeof factories;

/** The registered volume backend names. */
export type VolumeBackendName = keyof Factories;

/** The registered names, sorted. */
export const VOLUME_BACKEND_NAMES: readonly VolumeBackendName[] = Object.freeze(
  (Object.keys(factories) as VolumeBackendName[]).sort(),
);

/** Whether a name is a registered volume backend. */
export function isVolumeBackendName(name: string): name is VolumeBackendName {
  return Object.hasOwn(factories, name);
}

/** A configured backend name, checked; throws naming the known ones. */
export function parseVolumeBackendName(name: string): VolumeBackendName {
  if (!isVolumeBackendName(name))
    throw new Error(`Unknown volume backend "${name}" (known: ${VOLUME_BACKEND_NAMES.join(", ")})`);
  return name;
}

/** A new backend of that name. */
export async function createVolumeBackend<N extends VolumeBackendName>(
  name: N,
  opts?: NonNullable<Parameters<Factories[N]>[0]>,
): Promise<VolumeBackend> {
  const factory = factories[parseVolumeBackendName(name)] as (o?: typeof opts) => Promise<VolumeBackend>;
  return factory(opts);
}

/** Which transports to run (each absent one is not offered). */
export interface TransportsOptions {
  iscsi?: TgtTransportOptions;
  nbd?: NbdTransportOptions;
}

/** The configured transports by protocol; each is also a BlockHolder to hand to the file backend (`holders`). */
export function createTransports(
  opts: TransportsOptions,
): Map<"iscsi" | "nbd", VolumeTransport & BlockHolder> {
  const m = new Map<"iscsi" | "nbd", VolumeTransport & BlockHolder>();
  if (opts.iscsi) m.set("iscsi", new TgtTransport(opts.iscsi));
  if (opts.nbd) m.set("nbd", new NbdTransport(opts.nbd));
  return m;
}
