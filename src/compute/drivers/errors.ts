// Errors virt drivers throw. Each has `name` = its class name and a JSON `data` object, so it crosses the bus
// (src/shared/bus) as a RemoteError with the same name and data, and the agent can tell them apart by name.
import {
  hasCapability,
  powerStateName,
  type DriverWith,
  type OptionalDriverMethod,
  type PowerState,
  type VirtDriver,
} from "./types.js";

/** Base class of every virt driver error. */
export class VirtDriverError extends Error {
  constructor(
    message: string,
    readonly data: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A method was called before init(). */
export class DriverNotInitialized extends VirtDriverError {
  constructor(readonly method: string) {
    super(`virt driver used before init(): ${method}`, { method });
  }
}

/** The hypervisor does not know this instance. */
export class InstanceNotFound extends VirtDriverError {
  constructor(readonly uuid: string) {
    super(`Instance ${uuid} could not be found on this host.`, { uuid });
  }
}

/** spawn() (or a migration) of a uuid that already exists on this host. */
export class InstanceExists extends VirtDriverError {
  constructor(readonly uuid: string) {
    super(`Instance ${uuid} already exists on this host.`, { uuid });
  }
}

/** The operation is not allowed in the instance's current power state. */
export class InvalidPowerState extends VirtDriverError {
  constructor(
    readonly uuid: string,
    readonly action: string,
    readonly state: PowerState,
    readonly allowed: readonly PowerState[],
  ) {
    super(
      `Cannot ${action} instance ${uuid} while it is ${powerStateName(state)}` +
        ` (allowed: ${allowed.map(powerStateName).join(", ")}).`,
      { uuid, action, state, allowed: [...allowed] },
    );
  }
}

/** The operation is not allowed in the instance's current non-power condition (rescued, migrating, building). */
export class InvalidInstanceState extends VirtDriverError {
  constructor(
    readonly uuid: string,
    readonly action: string,
    readonly condition: string,
  ) {
    super(`Cannot ${action} instance ${uuid} while it is ${condition}.`, { uuid, action, condition });
  }
}

/** The spec is malformed (bad uuid, non-positive sizes, unsupported image format). */
export class InvalidInstanceSpec extends VirtDriverError {
  constructor(
    readonly uuid: string,
    readonly reason: string,
  ) {
    super(`Invalid instance spec for ${uuid}: ${reason}`, { uuid, reason });
  }
}

/** The host cannot fit the instance. */
export class InsufficientResources extends VirtDriverError {
  constructor(
    readonly uuid: string,
    readonly resource: "vcpus" | "memoryMb" | "diskGb",
    readonly requested: number,
    readonly free: number,
  ) {
    super(`Not enough ${resource} on this host for instance ${uuid}: requested ${requested}, free ${free}.`, {
      uuid,
      resource,
      requested,
      free,
    });
  }
}

/** spawn() failed; the instance was cleaned up, so the conductor may reschedule it elsewhere. */
export class SpawnFailed extends VirtDriverError {
  constructor(
    readonly uuid: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Failed to spawn instance ${uuid}: ${reason}`, { uuid, reason }, options);
  }
}

/** Any other operation failed in the hypervisor. */
export class OperationFailed extends VirtDriverError {
  constructor(
    readonly uuid: string,
    readonly action: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Failed to ${action} instance ${uuid}: ${reason}`, { uuid, action, reason }, options);
  }
}

/** The driver does not have this optional capability. */
export class UnsupportedOperation extends VirtDriverError {
  constructor(
    readonly method: string,
    readonly driver: string,
  ) {
    super(`The ${driver} virt driver does not support ${method}.`, { method, driver });
  }
}

/** createDriver() with a name that is not registered. */
export class UnknownDriver extends VirtDriverError {
  constructor(
    readonly driver: string,
    readonly known: readonly string[],
  ) {
    super(`Unknown virt driver ${JSON.stringify(driver)}; known drivers: ${known.join(", ")}.`, {
      driver,
      known: [...known],
    });
  }
}

/** The driver, narrowed to one that has `method`; throws UnsupportedOperation otherwise. */
export function requireCapability<D extends VirtDriver, M extends OptionalDriverMethod>(
  driver: D,
  method: M,
): D & DriverWith<M> {
  if (!hasCapability(driver, method)) throw new UnsupportedOperation(method, driver.constructor.name);
  return driver;
}
