// Two handles on one migrated compute database (as two API processes have), for a describe block per engine.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { computeMigrations } from "../../src/compute/migrations/index.js";
import { migrate, openDatabase, type Database, type Engine } from "../../src/shared/db/index.js";
import { createTempDatabase, type TempDatabase } from "./engines.js";

/** What computeHandles gives a describe block: the skip reason (engine not usable) and the two handles. */
export interface ComputeHandles {
  skip: string | null;
  h: Database[];
}

/**
 * Register before/after hooks (call inside describe) that make a temporary compute database on `engine`, open two
 * handles on it and migrate it; both handles are closed and the database dropped after the block.
 */
export function computeHandles(engine: Engine, prefix: string): ComputeHandles {
  const out: ComputeHandles = { skip: null, h: [] };
  let dataDir = "";
  let tmp: TempDatabase | null = null;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `${prefix}-${engine}-`));
    tmp = await createTempDatabase(engine, { dataDir, prefix: prefix.replace(/-/g, "_") });
    out.skip = tmp.skipReason;
    if (out.skip) return;
    for (let i = 0; i < 2; i++) out.h.push(await openDatabase(tmp.url));
    await migrate(out.h[0]!, "compute", computeMigrations);
  });
  after(async () => {
    for (const d of out.h) await d.close();
    await tmp?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return out;
}
