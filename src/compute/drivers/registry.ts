// The virt drivers the compute agent can be configured with, by name (as Incus keeps its instance drivers in one
// name → constructor map). Adding a driver is one line here; the map's type gives DriverName and each driver's
// options type.
import { join } from "node:path";
import { defaultDataDir } from "../../shared/config.js";
import { UnknownDriver } from "./errors.js";
import { FakeDriver, type FakeDriverOptions } from "./fake.js";
import { QemuDriver, type QemuDriverOptions } from "./qemu/driver.js";
import type { VirtDriver } from "./types.js";

const factories = {
  fake: (opts: FakeDriverOptions = {}) => new FakeDriver(opts),
  qemu: (opts: Partial<QemuDriverOptions> = {}) =>
    new QemuDriver({ ...opts, stateDir: opts.stateDir ?? join(defaultDataDir(), "qemu") }),
} satisfies Record<string, (opts?: never) => VirtDriver>;

type Factories = typeof factories;

/** The registered driver names. */
export type DriverName = keyof Factories;

/** The options `createDriver(name, ...)` takes for a driver. */
export type DriverOptions<N extends DriverName> = NonNullable<Parameters<Factories[N]>[0]>;

/** The registered driver names, sorted. */
export const DRIVER_NAMES: readonly DriverName[] = Object.freeze(
  (Object.keys(factories) as DriverName[]).sort(),
);

export function isDriverName(name: string): name is DriverName {
  return Object.hasOwn(factories, name);
}

/** A configured driver name (e.g. from stratus.yaml), checked; throws UnknownDriver listing the known ones. */
export function parseDriverName(name: string): DriverName {
  if (!isDriverName(name)) throw new UnknownDriver(name, DRIVER_NAMES);
  return name;
}

/** A new, not yet initialised, driver; call `init(host)` on it before use. */
export function createDriver<N extends DriverName>(
  name: N,
  opts?: DriverOptions<N>,
): ReturnType<Factories[N]> {
  const factory = factories[parseDriverName(name)] as (opts?: DriverOptions<N>) => ReturnType<Factories[N]>;
  return factory(opts);
}
