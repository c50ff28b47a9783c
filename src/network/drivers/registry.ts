// The network drivers an agent can be configured with, by name (as compute's virt driver registry). Adding a
// driver is one line here; the map's type gives NetworkDriverName and each driver's options type.
import { LinuxDriver, type LinuxDriverOptions } from "./linux/driver.js";
import { NoopDriver, type NoopDriverOptions } from "./noop.js";
import type { NetworkDriver } from "./types.js";

const factories = {
  noop: (opts: NoopDriverOptions = {}) => new NoopDriver(opts),
  linux: (opts?: LinuxDriverOptions) => {
    if (!opts) throw new Error("the linux network driver needs its options (prefix, state directory)");
    return new LinuxDriver(opts);
  },
} satisfies Record<string, (opts?: never) => NetworkDriver>;

type Factories = typeof factories;

/** The registered network driver names. */
export type NetworkDriverName = keyof Factories;

/** The registered names, sorted. */
export const NETWORK_DRIVER_NAMES: readonly NetworkDriverName[] = Object.freeze(
  (Object.keys(factories) as NetworkDriverName[]).sort(),
);

/** Whether a name is a registered network driver. */
export function isNetworkDriverName(name: string): name is NetworkDriverName {
  return Object.hasOwn(factories, name);
}

/** A configured driver name, checked; throws naming the known ones. */
export function parseNetworkDriverName(name: string): NetworkDriverName {
  if (!isNetworkDriverName(name))
    throw new Error(`Unknown network driver "${name}" (known: ${NETWORK_DRIVER_NAMES.join(", ")})`);
  return name;
}

/** A new driver; the agent calls init(host) on it. */
export function createNetworkDriver<N extends NetworkDriverName>(
  name: N,
  opts?: NonNullable<Parameters<Factories[N]>[0]>,
): ReturnType<Factories[N]> {
  const factory = factories[parseNetworkDriverName(name)] as (o?: typeof opts) => ReturnType<Factories[N]>;
  return factory(opts);
}
