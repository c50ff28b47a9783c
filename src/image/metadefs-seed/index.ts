// The default Metadata Definitions catalog, loaded into the database at start (Glance loads its etc/metadefs
// with `glance-manage db_load_metadefs`). Each namespace is seeded once: one an operator deleted or renamed is
// not brought back, and namespaces added to this catalog in a later release are seeded on the next start.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import { ensureResourceTypes, seedNamespace, seededNamespaces } from "../store/metadefs.js";
import { computeNamespaces } from "./compute.js";
import { glanceNamespaces } from "./glance.js";
import type { SeedNamespace } from "./types.js";

/** The resource types that exist from the start, in the order GET /v2/metadefs/resource_types lists them. */
export const DEFAULT_RESOURCE_TYPES = [
  "OS::Glance::Image",
  "OS::Cinder::Volume",
  "OS::Nova::Flavor",
  "OS::Nova::Aggregate",
  "OS::Nova::Server",
];

/** Every namespace of the default catalog. */
export const defaultCatalog: SeedNamespace[] = [...computeNamespaces, ...glanceNamespaces];

/** The owner of seeded namespaces (Glance's loader uses the same literal). */
export const SEED_OWNER = "admin";

/** Run a seeding step again when the database gave up on it (a deadlock between two starting processes). */
async function withRetries<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= attempts || (e instanceof Error && "status" in e)) throw e;
      await new Promise((r) => setTimeout(r, 20 * i));
    }
  }
}

/** Seed the default catalog; idempotent, and safe when several processes start at once. */
export async function seedMetadefs(db: Kysely<any>, log?: Logger): Promise<void> {
  await withRetries(() => ensureResourceTypes(db, DEFAULT_RESOURCE_TYPES, true));
  const done = await seededNamespaces(db);
  let created = 0;
  for (const ns of defaultCatalog) {
    if (done.has(ns.namespace)) continue;
    const ok = await withRetries(() =>
      seedNamespace(
        db,
        {
          namespace: ns.namespace,
          display_name: ns.display_name,
          description: ns.description,
          visibility: ns.visibility,
          protected: ns.protected,
          owner: SEED_OWNER,
        },
        {
          properties: ns.properties,
          objects: ns.objects,
          tags: ns.tags,
          resource_type_associations: ns.resource_type_associations,
        },
      ),
    );
    if (ok) created++;
  }
  if (created) log?.info({ created }, "seeded the default metadata definitions catalog");
}
