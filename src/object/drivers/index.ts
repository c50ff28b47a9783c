import { join } from "node:path";
import type { ObjectDataStore } from "./store.js";
import { FileDataStore } from "./file.js";

/** What a store driver gets to open itself. */
export interface DriverContext {
  dataDir: string;
}

/** The object store drivers by name (`object.driver` in the configuration). */
export const objectDrivers = {
  /** Files under DATA_DIR/objects (the default). */
  file: (ctx: DriverContext): ObjectDataStore => {
    const store = new FileDataStore(join(ctx.dataDir, "objects"));
    store.removePartials();
    return store;
  },
} as const satisfies Record<string, (ctx: DriverContext) => ObjectDataStore>;

/** A driver name. */
export type ObjectDriverName = keyof typeof objectDrivers;

/** Open the named driver. */
export function openObjectDriver(name: ObjectDriverName, ctx: DriverContext): ObjectDataStore {
  return objectDrivers[name](ctx);
}
