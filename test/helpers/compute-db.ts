// Two handles on one migrated compute database (as two API processes have), for a describe block per engine.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { after, before } from "node:test";
import type { Kysely } from "kysely";
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

/** What a server row made by insertServerRow has besides the defaults (project "p", 1 vCPU and 512 MB, active). */
export interface ServerRow {
  project?: string;
  flavor?: { flavorid?: string; vcpus: number; memory_mb: number };
  task?: string;
  meta?: object;
  deleted?: boolean;
}

/** Insert a bare compute_instance row (no host work behind it) for tests of the table's readers and writers. */
export async function insertServerRow(db: Kysely<any>, o: ServerRow = {}): Promise<string> {
  const uuid = randomUUID();
  const flavor = o.flavor ?? { vcpus: 1, memory_mb: 512 };
  await db
    .insertInto("compute_instance")
    .values({
      uuid,
      display_name: "s",
      hostname: "s",
      project_id: o.project ?? "p",
      user_id: "u",
      image_ref: "img",
      flavor: o.flavor ? JSON.stringify(o.flavor) : "{}",
      vcpus: flavor.vcpus,
      memory_mb: flavor.memory_mb,
      host: "h1",
      node: "h1",
      vm_state: "active",
      task_state: o.task ?? null,
      reservation_id: `r-${uuid}`,
      security_groups: "[]",
      addresses: "{}",
      request_spec: "{}",
      system_metadata: JSON.stringify(o.meta ?? {}),
      deleted: o.deleted ? 1 : 0,
      created_at: new Date().toISOString(),
    })
    .execute();
  return uuid;
}
