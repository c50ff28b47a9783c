// os-migrations (every migration, for admins) and GET /servers/{id}/migrations[/{id}] (a server's in-progress
// live migrations).
import type { MigrationRow } from "../../conductor/migration-records.js";
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { getInstance } from "../../instances/store.js";
import type { Ctx } from "../common.js";
import {
  ADMIN,
  changesWindow,
  collectionNext,
  fitsInt,
  inWindow,
  limitAndMarker,
  novaTime,
  policyRule,
  queryNonNegInt,
  rejectUnknownQuery,
  selfLinks,
  toMicros,
} from "./util.js";

const SM = "/servers/{server_id}/migrations";

/** Policy defaults of os-migrations and the server migrations reads. */
export const migrationPolicies: RuleDefault[] = [
  policyRule(
    "os_compute_api:os-migrations:index",
    ADMIN,
    "See migrations of every server.",
    "GET",
    "/os-migrations",
  ),
  policyRule(
    "os_compute_api:servers:migrations:show",
    ADMIN,
    "See one live migration of a server while it runs.",
    "GET",
    `${SM}/{migration_id}`,
  ),
  policyRule(
    "os_compute_api:servers:migrations:index",
    ADMIN,
    "See the live migrations of a server that are running.",
    "GET",
    SM,
  ),
];

/** Statuses of a live migration still under way. */
const LIVE_IN_PROGRESS = ["queued", "preparing", "running", "post-migrating"];

const flavorRef = (v: string | null) => (v !== null && /^\d+$/.test(v) ? Number(v) : v);

function listView(ctx: Ctx, m: MigrationRow): Record<string, unknown> {
  const mv = ctx.microversion;
  const out: Record<string, unknown> = {
    created_at: novaTime(m.created_at),
    dest_compute: m.dest_compute,
    dest_host: m.dest_host,
    dest_node: m.dest_node,
    id: m.id,
    instance_uuid: m.instance_uuid,
    new_instance_type_id: flavorRef(m.new_flavor_id),
    old_instance_type_id: flavorRef(m.old_flavor_id),
    source_compute: m.source_compute,
    source_node: m.source_node,
    status: m.status,
    updated_at: novaTime(m.updated_at),
  };
  if (mv.gte("2.23")) {
    out.migration_type = m.migration_type;
    if (m.migration_type === "live-migration" && LIVE_IN_PROGRESS.includes(m.status))
      out.links = selfLinks(ctx, `servers/${m.instance_uuid}/migrations`, m.id);
  }
  if (mv.gte("2.59")) out.uuid = m.uuid;
  if (mv.gte("2.80")) Object.assign(out, { user_id: m.user_id, project_id: m.project_id });
  return out;
}

function serverView(ctx: Ctx, m: MigrationRow): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: novaTime(m.created_at),
    dest_compute: m.dest_compute,
    dest_host: m.dest_host,
    dest_node: m.dest_node,
    disk_processed_bytes: null,
    disk_remaining_bytes: null,
    disk_total_bytes: null,
    id: m.id,
    memory_processed_bytes: null,
    memory_remaining_bytes: null,
    memory_total_bytes: null,
    server_uuid: m.instance_uuid,
    source_compute: m.source_compute,
    source_node: m.source_node,
    status: m.status,
    updated_at: novaTime(m.updated_at),
  };
  if (ctx.microversion.gte("2.59")) out.uuid = m.uuid;
  if (ctx.microversion.gte("2.80")) Object.assign(out, { user_id: m.user_id, project_id: m.project_id });
  return out;
}

const parse = (r: Record<string, unknown>): MigrationRow => ({
  ...(r as unknown as MigrationRow),
  id: Number(r.id),
});

async function listMigrations(core: ComputeCore, ctx: Ctx) {
  const mv = ctx.microversion;
  const q = ctx.query;
  const base = ["hidden", "host", "instance_uuid", "source_compute", "status", "migration_type"];
  if (mv.gte("2.59")) {
    const allowed = [...base, "limit", "marker", "changes-since"];
    if (mv.gte("2.66")) allowed.push("changes-before");
    if (mv.gte("2.80")) allowed.push("user_id", "project_id");
    rejectUnknownQuery(ctx, allowed);
    queryNonNegInt(ctx, "limit");
  }
  const window = mv.gte("2.59") ? changesWindow(ctx, mv.gte("2.66")) : {};
  let sel = core.db.selectFrom("compute_server_migration").selectAll();
  if (q.status !== undefined) sel = sel.where("status", "=", q.status);
  if (q.host !== undefined) {
    const host = q.host;
    sel = sel.where((eb) => eb.or([eb("source_compute", "=", host), eb("dest_compute", "=", host)]));
  } else if (q.source_compute !== undefined) sel = sel.where("source_compute", "=", q.source_compute);
  if (q.migration_type !== undefined) sel = sel.where("migration_type", "=", q.migration_type);
  if (q.instance_uuid !== undefined) sel = sel.where("instance_uuid", "=", q.instance_uuid);
  if (q.user_id !== undefined) sel = sel.where("user_id", "=", q.user_id);
  if (q.project_id !== undefined) sel = sel.where("project_id", "=", q.project_id);
  let rows = ((await sel.orderBy("id").execute()) as Array<Record<string, unknown>>)
    .map(parse)
    .filter((m) => inWindow(m.updated_at, window));
  if (!mv.gte("2.59")) return { migrations: rows.map((m) => listView(ctx, m)) };
  const { limit, marker } = limitAndMarker(ctx);
  // Newest first: created_at then id, both descending.
  rows.sort((a, b) => (toMicros(b.created_at) ?? 0) - (toMicros(a.created_at) ?? 0) || b.id - a.id);
  if (marker !== undefined) {
    const m = (await core.db
      .selectFrom("compute_server_migration")
      .selectAll()
      .where("uuid", "=", marker)
      .executeTakeFirst()) as Record<string, unknown> | undefined;
    if (!m) throw badRequest(`Marker ${marker} could not be found.`);
    const [at, id] = [toMicros(m.created_at as string) ?? 0, Number(m.id)];
    rows = rows.filter(
      (r) => (toMicros(r.created_at) ?? 0) < at || ((toMicros(r.created_at) ?? 0) === at && r.id < id),
    );
  }
  const page = limit === 0 ? [] : rows.slice(0, limit);
  const out: Record<string, unknown> = { migrations: page.map((m) => listView(ctx, m)) };
  const next = collectionNext(ctx, "os-migrations", page, (m: MigrationRow) => m.uuid);
  if (next.length) out.migrations_links = next;
  return out;
}

/** /os-migrations and /servers/{server_id}/migrations (reads). */
export function migrationRoutes(core: ComputeCore): Route[] {
  const db = core.db;
  const gone = () => notFound("The resource could not be found.");
  return [
    route({
      method: "GET",
      path: "/v2.1/os-migrations",
      policy: "os_compute_api:os-migrations:index",
      target: () => ({}),
      handler: (ctx: Ctx) => listMigrations(core, ctx),
    }),
    route({
      method: "GET",
      path: "/v2.1/servers/:server_id/migrations",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        if (ctx.microversion.lt("2.23")) throw gone();
        const inst = await getInstance(db, ctx.params.server_id);
        ctx.authorize("os_compute_api:servers:migrations:index", { project_id: inst.project_id });
        const rows = (await db
          .selectFrom("compute_server_migration")
          .selectAll()
          .where("instance_uuid", "=", inst.uuid)
          .where("status", "in", LIVE_IN_PROGRESS)
          .where("migration_type", "=", "live-migration")
          .orderBy("id")
          .execute()) as Array<Record<string, unknown>>;
        return { migrations: rows.map(parse).map((m) => serverView(ctx, m)) };
      },
    }),
    route({
      method: "GET",
      path: "/v2.1/servers/:server_id/migrations/:id",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        if (ctx.microversion.lt("2.23")) throw gone();
        const inst = await getInstance(db, ctx.params.server_id);
        ctx.authorize("os_compute_api:servers:migrations:show", { project_id: inst.project_id });
        const id = ctx.params.id;
        const uuid = inst.uuid;
        const row =
          /^\d+$/.test(id) && fitsInt(Number(id))
            ? await db
                .selectFrom("compute_server_migration")
                .selectAll()
                .where("id", "=", Number(id))
                .where("instance_uuid", "=", uuid)
                .executeTakeFirst()
            : undefined;
        if (!row) throw notFound(`In-progress live migration ${id} is not found for server ${uuid}.`);
        const m = parse(row);
        if (m.migration_type !== "live-migration")
          throw notFound(`Migration ${id} for server ${uuid} is not live-migration.`);
        if (!LIVE_IN_PROGRESS.includes(m.status))
          throw notFound(`Live migration ${id} for server ${uuid} is not in progress.`);
        return { migration: serverView(ctx, m) };
      },
    }),
  ];
}
