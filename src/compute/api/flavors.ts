import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { fromDbBool, isUniqueViolation, nowIso, toDbBool } from "../../shared/db/index.js";
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import type { ComputeCore } from "../core.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { MAX_LIMIT, intParam, invalid, isAdmin, nextLink, objectBody, type Ctx } from "./common.js";
import { hasControl } from "./common.js";

export interface FlavorRow {
  id: number;
  flavorid: string;
  name: string;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: unknown;
  disabled: unknown;
  description: string | null;
  created_at: string;
  updated_at: string | null;
}

const MAX_INT = 2147483647;

/** devstack's default flavors: name, flavorid, MB of RAM, vCPUs, GB of root disk. */
const DEFAULT_FLAVORS: Array<[string, string, number, number, number]> = [
  ["m1.nano", "42", 128, 1, 1],
  ["m1.micro", "84", 192, 1, 1],
  ["m1.tiny", "1", 512, 1, 1],
  ["m1.small", "2", 2048, 1, 20],
  ["m1.medium", "3", 4096, 2, 40],
  ["m1.large", "4", 8192, 4, 80],
  ["m1.xlarge", "5", 16384, 8, 160],
];

async function insertFlavor(db: Kysely<any>, f: Omit<FlavorRow, "id" | "created_at" | "updated_at">) {
  await db
    .insertInto("compute_flavor")
    .values({
      ...f,
      is_public: toDbBool(f.is_public as boolean),
      disabled: 0,
      created_at: nowIso(),
      updated_at: null,
    })
    .execute();
}

/** Create the default flavors on the first start only (an empty flavor table), so deletions stick. */
export async function seedFlavors(core: ComputeCore): Promise<void> {
  const any = await core.db.selectFrom("compute_flavor").select("id").limit(1).executeTakeFirst();
  if (any) return;
  for (const [name, flavorid, ram, vcpus, disk] of DEFAULT_FLAVORS) {
    try {
      await insertFlavor(core.db, {
        flavorid,
        name,
        memory_mb: ram,
        vcpus,
        root_gb: disk,
        ephemeral_gb: 0,
        swap: 0,
        rxtx_factor: 1,
        is_public: true,
        disabled: false,
        description: null,
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
}

const byFlavorId = (db: Kysely<any>, flavorid: string): Promise<FlavorRow | undefined> =>
  db.selectFrom("compute_flavor").selectAll().where("flavorid", "=", flavorid).executeTakeFirst() as Promise<
    FlavorRow | undefined
  >;

async function accessProjects(db: Kysely<any>, id: number): Promise<string[]> {
  const rows = await db
    .selectFrom("compute_flavor_project")
    .select("project_id")
    .where("flavor_id", "=", id)
    .orderBy("project_id")
    .execute();
  return rows.map((r) => r.project_id as string);
}

export async function extraSpecs(db: Kysely<any>, id: number): Promise<Record<string, string>> {
  const rows = await db
    .selectFrom("compute_flavor_extra_spec")
    .select(["spec_key", "value"])
    .where("flavor_id", "=", id)
    .orderBy("spec_key")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.spec_key as string, r.value as string]));
}

/** The flavor if the caller may see it (admins see all, others public ones and those shared with their project). */
export async function visibleFlavor(core: ComputeCore, ctx: Ctx, flavorid: string): Promise<FlavorRow> {
  const f = await byFlavorId(core.db, flavorid);
  if (f && (fromDbBool(f.is_public) || isAdmin(ctx))) return f;
  if (f && ctx.auth?.projectId && (await accessProjects(core.db, f.id)).includes(ctx.auth.projectId))
    return f;
  throw notFound(`Flavor ${flavorid} could not be found.`);
}

function links(ctx: Ctx, flavorid: string) {
  const id = encodeURIComponent(flavorid);
  return [
    { rel: "self", href: `${ctx.serviceUrl}/v2.1/flavors/${id}` },
    { rel: "bookmark", href: `${ctx.serviceUrl}/flavors/${id}` },
  ];
}

function brief(ctx: Ctx, f: FlavorRow): Record<string, unknown> {
  const out: Record<string, unknown> = { id: f.flavorid, name: f.name, links: links(ctx, f.flavorid) };
  if (ctx.microversion.gte("2.55")) out.description = f.description;
  return out;
}

async function detail(core: ComputeCore, ctx: Ctx, f: FlavorRow): Promise<Record<string, unknown>> {
  const mv = ctx.microversion;
  const out: Record<string, unknown> = {
    id: f.flavorid,
    name: f.name,
    ram: f.memory_mb,
    disk: f.root_gb,
    swap: f.swap === 0 && mv.lt("2.75") ? "" : f.swap,
    "OS-FLV-EXT-DATA:ephemeral": f.ephemeral_gb,
    "OS-FLV-DISABLED:disabled": fromDbBool(f.disabled),
    vcpus: f.vcpus,
    "os-flavor-access:is_public": fromDbBool(f.is_public),
    rxtx_factor: Number(f.rxtx_factor),
    links: links(ctx, f.flavorid),
  };
  if (mv.gte("2.55")) out.description = f.description;
  if (mv.gte("2.61") && ctx.allowed("os_compute_api:os-flavor-extra-specs:index", ctx.params))
    out.extra_specs = await extraSpecs(core.db, f.id);
  return out;
}

const SORT_KEYS = new Map<string, string>(
  Object.entries({
    created_at: "created_at",
    description: "description",
    disabled: "disabled",
    ephemeral_gb: "ephemeral_gb",
    flavorid: "flavorid",
    id: "id",
    is_public: "is_public",
    memory_mb: "memory_mb",
    name: "name",
    root_gb: "root_gb",
    rxtx_factor: "rxtx_factor",
    swap: "swap",
    updated_at: "updated_at",
    vcpus: "vcpus",
  }),
);

function parseIsPublic(raw: string | undefined): boolean | null {
  if (raw === undefined) return true;
  const v = raw.toLowerCase();
  if (v === "none") return null;
  if (["1", "t", "true", "on", "y", "yes"].includes(v)) return true;
  if (["0", "f", "false", "off", "n", "no"].includes(v)) return false;
  throw badRequest(`Invalid is_public filter [${raw}]`);
}

async function listFlavors(core: ComputeCore, ctx: Ctx): Promise<FlavorRow[]> {
  const q = ctx.query;
  let sel = core.db.selectFrom("compute_flavor").selectAll();
  for (const [param, col] of [
    ["minRam", "memory_mb"],
    ["minDisk", "root_gb"],
  ] as const) {
    const raw = q[param];
    if (raw === undefined) continue;
    if (!/^\d+$/.test(raw))
      throw badRequest(`Invalid ${param === "minRam" ? "min_ram" : "min_disk"} filter [${raw}]`);
    sel = sel.where(col, ">=", Number(raw));
  }
  const admin = isAdmin(ctx);
  const isPublic = admin ? parseIsPublic(q.is_public) : true;
  if (isPublic !== null) {
    const project = ctx.auth?.projectId ?? null;
    sel = sel.where((eb) => {
      const base = eb("is_public", "=", toDbBool(isPublic));
      if (!isPublic || admin || !project) return base;
      return eb.or([
        base,
        eb(
          "id",
          "in",
          eb.selectFrom("compute_flavor_project").select("flavor_id").where("project_id", "=", project),
        ),
      ]);
    });
  }
  const sortKey = q.sort_key ?? "flavorid";
  const sortDir = (q.sort_dir ?? "asc").toLowerCase();
  if (!SORT_KEYS.has(sortKey)) throw badRequest(`Invalid sort_key [${sortKey}]`);
  if (sortDir !== "asc" && sortDir !== "desc") throw badRequest(`Invalid sort_dir [${q.sort_dir}]`);
  let rows = (await sel.execute()) as FlavorRow[];
  const key = SORT_KEYS.get(sortKey) as keyof FlavorRow;
  const num = (v: unknown) => (typeof v === "number" ? v : NaN);
  rows.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    let c: number;
    if (!Number.isNaN(num(x)) && !Number.isNaN(num(y))) c = num(x) - num(y);
    else c = String(x ?? "") < String(y ?? "") ? -1 : String(x ?? "") > String(y ?? "") ? 1 : 0;
    if (c === 0) c = a.id - b.id;
    return sortDir === "asc" ? c : -c;
  });
  if (q.marker !== undefined) {
    const i = rows.findIndex((r) => r.flavorid === q.marker);
    if (i < 0) throw badRequest(`marker [${q.marker}] not found`);
    rows = rows.slice(i + 1);
  }
  return rows;
}

async function page(core: ComputeCore, ctx: Ctx, key: string, view: (f: FlavorRow) => Promise<unknown>) {
  const rows = await listFlavors(core, ctx);
  const asked = intParam("limit", ctx.query.limit);
  const limit = Math.min(asked ?? MAX_LIMIT, MAX_LIMIT);
  const shown = rows.slice(0, limit);
  const out: Record<string, unknown> = { [key]: await Promise.all(shown.map(view)) };
  if (shown.length === limit && limit > 0 && asked !== undefined)
    out[`${key}_links`] = nextLink(ctx, shown[shown.length - 1].flavorid, limit);
  return out;
}

/** An integer flavor attribute (Nova accepts integers or digit strings), within [min, MAX_INT]. */
function intField(body: Record<string, unknown>, name: string, min: number, required: boolean): number {
  const v = body[name];
  if (v === undefined) {
    if (required)
      throw badRequest(`Invalid input for field/attribute flavor. '${name}' is a required property`);
    return 0;
  }
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > MAX_INT)
    throw invalid(name, v, `must be an integer between ${min} and ${MAX_INT}`);
  return n;
}

const FLAVOR_KEYS = new Set([
  "name",
  "id",
  "ram",
  "vcpus",
  "disk",
  "OS-FLV-EXT-DATA:ephemeral",
  "swap",
  "rxtx_factor",
  "os-flavor-access:is_public",
  "description",
]);

function checkDescription(v: unknown): string | null {
  if (v === null) return null;
  if (typeof v !== "string" || v.length > 65535 || hasControl(v.replace(/[\n\r\t]/g, "")))
    throw invalid("description", v, "must be a printable string of at most 65535 characters or null");
  return v;
}

function parseCreate(ctx: Ctx) {
  const body = objectBody(ctx);
  const f = body.flavor;
  if (f === null || typeof f !== "object" || Array.isArray(f))
    throw badRequest("Invalid input for field/attribute flavor. 'flavor' is a required property");
  const b = f as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (k === "description" && ctx.microversion.lt("2.55"))
      throw badRequest("Additional properties are not allowed ('description' was unexpected)");
    if (!FLAVOR_KEYS.has(k))
      throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
  }
  const name = b.name;
  if (typeof name !== "string" || name.trim() === "" || name.length > 255 || name !== name.trim())
    throw invalid(
      "name",
      name,
      "must be a non-empty string of at most 255 characters without leading or trailing spaces",
    );
  let id = b.id;
  if (id === undefined || id === null || id === "auto") id = randomUUID();
  if (typeof id === "number" && Number.isInteger(id) && id >= 0) id = String(id); // Nova accepts integer ids
  if (typeof id !== "string" || !/^(?! )[a-zA-Z0-9. _-]{1,255}(?<! )$/.test(id))
    throw invalid("id", b.id, "must be letters, digits, '.', '_', '-' or spaces, at most 255 characters");
  let rxtx = 1;
  if (b.rxtx_factor !== undefined) {
    const r = typeof b.rxtx_factor === "string" ? Number(b.rxtx_factor) : b.rxtx_factor;
    if (typeof r !== "number" || !Number.isFinite(r) || r <= 0 || r > 3.40282e38)
      throw invalid("rxtx_factor", b.rxtx_factor, "must be a number above 0");
    rxtx = r;
  }
  let isPublic = true;
  if (b["os-flavor-access:is_public"] !== undefined) {
    const p = b["os-flavor-access:is_public"];
    if (typeof p === "boolean") isPublic = p;
    else if (typeof p === "string" && ["true", "false"].includes(p.toLowerCase()))
      isPublic = p.toLowerCase() === "true";
    else throw invalid("os-flavor-access:is_public", p, "must be a boolean");
  }
  return {
    flavorid: id,
    name,
    memory_mb: intField(b, "ram", 1, true),
    vcpus: intField(b, "vcpus", 1, true),
    root_gb: intField(b, "disk", 0, true),
    ephemeral_gb: intField(b, "OS-FLV-EXT-DATA:ephemeral", 0, false),
    swap: intField(b, "swap", 0, false),
    rxtx_factor: rxtx,
    is_public: isPublic,
    disabled: false,
    description: b.description === undefined ? null : checkDescription(b.description),
  };
}

const SPEC_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

function specValue(k: string, v: unknown): string {
  if (!SPEC_KEY.test(k)) throw invalid("extra_specs", k, "keys must match ^[a-zA-Z0-9-_:. ]{1,255}$");
  if (typeof v === "boolean" || typeof v === "number") return String(v);
  if (typeof v !== "string" || v.length > 255)
    throw invalid(k, v, "extra spec values must be strings, numbers or booleans of at most 255 characters");
  return v;
}

async function setSpecs(db: Kysely<any>, flavorId: number, specs: Record<string, string>) {
  await db.transaction().execute(async (tx) => {
    for (const [k, v] of Object.entries(specs)) {
      await tx
        .deleteFrom("compute_flavor_extra_spec")
        .where("flavor_id", "=", flavorId)
        .where("spec_key", "=", k)
        .execute();
      await tx
        .insertInto("compute_flavor_extra_spec")
        .values({ flavor_id: flavorId, spec_key: k, value: v })
        .execute();
    }
  });
}

/** /flavors, their extra specs and access lists. */
export function flavorRoutes(core: ComputeCore): Route[] {
  const db = core.db;
  const F = "/v2.1/flavors/:flavor_id";
  const flavorOr404 = async (flavorid: string): Promise<FlavorRow> => {
    const f = await byFlavorId(db, flavorid);
    if (!f) throw notFound(`Flavor ${flavorid} could not be found.`);
    return f;
  };
  const accessList = async (f: FlavorRow) => ({
    flavor_access: (await accessProjects(db, f.id)).map((p) => ({ flavor_id: f.flavorid, tenant_id: p })),
  });
  return [
    route({
      method: "GET",
      path: "/v2.1/flavors",
      policy: "os_compute_api:flavors:list",
      handler: (ctx: Ctx) => page(core, ctx, "flavors", async (f) => brief(ctx, f)),
    }),
    route({
      method: "GET",
      path: "/v2.1/flavors/detail",
      policy: "os_compute_api:flavors:list",
      handler: (ctx: Ctx) => page(core, ctx, "flavors", (f) => detail(core, ctx, f)),
    }),
    route({
      method: "GET",
      path: F,
      policy: "os_compute_api:flavors:show",
      handler: async (ctx: Ctx) => ({
        flavor: await detail(core, ctx, await visibleFlavor(core, ctx, ctx.params.flavor_id)),
      }),
    }),
    route({
      method: "POST",
      path: "/v2.1/flavors",
      policy: "os_compute_api:os-flavor-manage:create",
      handler: async (ctx: Ctx) => {
        const f = parseCreate(ctx);
        if (await db.selectFrom("compute_flavor").select("id").where("name", "=", f.name).executeTakeFirst())
          throw conflict(`Flavor with name ${f.name} already exists.`);
        if (await byFlavorId(db, f.flavorid)) throw conflict(`Flavor with ID ${f.flavorid} already exists.`);
        try {
          await insertFlavor(db, f);
        } catch (e) {
          if (isUniqueViolation(e)) throw conflict(`Flavor with ID ${f.flavorid} already exists.`);
          throw e;
        }
        return { flavor: await detail(core, ctx, (await byFlavorId(db, f.flavorid)) as FlavorRow) };
      },
    }),
    route({
      method: "PUT",
      path: F,
      policy: "os_compute_api:os-flavor-manage:update",
      handler: async (ctx: Ctx) => {
        if (ctx.microversion.lt("2.55")) throw notFound("The resource could not be found.");
        const body = objectBody(ctx);
        const fl = body.flavor as Record<string, unknown> | undefined;
        if (!fl || typeof fl !== "object" || Array.isArray(fl) || !("description" in fl))
          throw badRequest("Invalid input for field/attribute flavor. 'description' is a required property");
        for (const k of Object.keys(fl))
          if (k !== "description")
            throw badRequest(`Additional properties are not allowed ('${k}' was unexpected)`);
        const description = checkDescription(fl.description);
        const f = await flavorOr404(ctx.params.flavor_id);
        await db
          .updateTable("compute_flavor")
          .set({ description, updated_at: nowIso() })
          .where("id", "=", f.id)
          .execute();
        return { flavor: await detail(core, ctx, await flavorOr404(f.flavorid)) };
      },
    }),
    route({
      method: "DELETE",
      path: F,
      policy: "os_compute_api:os-flavor-manage:delete",
      handler: async (ctx: Ctx) => {
        const f = await flavorOr404(ctx.params.flavor_id);
        await db.transaction().execute(async (tx) => {
          await tx.deleteFrom("compute_flavor_extra_spec").where("flavor_id", "=", f.id).execute();
          await tx.deleteFrom("compute_flavor_project").where("flavor_id", "=", f.id).execute();
          await tx.deleteFrom("compute_flavor").where("id", "=", f.id).execute();
        });
        return reply(202, undefined);
      },
    }),
    route({
      method: "GET",
      path: `${F}/os-extra_specs`,
      policy: "os_compute_api:os-flavor-extra-specs:index",
      handler: async (ctx: Ctx) => {
        const f = await visibleFlavor(core, ctx, ctx.params.flavor_id);
        return { extra_specs: await extraSpecs(db, f.id) };
      },
    }),
    route({
      method: "POST",
      path: `${F}/os-extra_specs`,
      policy: "os_compute_api:os-flavor-extra-specs:create",
      handler: async (ctx: Ctx) => {
        const body = objectBody(ctx);
        const specs = body.extra_specs;
        if (specs === null || typeof specs !== "object" || Array.isArray(specs))
          throw badRequest(
            "Invalid input for field/attribute extra_specs. 'extra_specs' is a required property",
          );
        const parsed = Object.fromEntries(Object.entries(specs).map(([k, v]) => [k, specValue(k, v)]));
        const f = await flavorOr404(ctx.params.flavor_id);
        await setSpecs(db, f.id, parsed);
        return { extra_specs: specs };
      },
    }),
    route({
      method: "GET",
      path: `${F}/os-extra_specs/:key`,
      policy: "os_compute_api:os-flavor-extra-specs:show",
      handler: async (ctx: Ctx) => {
        const f = await visibleFlavor(core, ctx, ctx.params.flavor_id);
        const specs = await extraSpecs(db, f.id);
        const k = ctx.params.key;
        if (!Object.hasOwn(specs, k))
          throw notFound(`Flavor ${f.flavorid} has no extra specs with key ${k}.`);
        return { [k]: specs[k] };
      },
    }),
    route({
      method: "PUT",
      path: `${F}/os-extra_specs/:key`,
      policy: "os_compute_api:os-flavor-extra-specs:update",
      handler: async (ctx: Ctx) => {
        const body = objectBody(ctx);
        const k = ctx.params.key;
        const keys = Object.keys(body);
        if (keys.length !== 1) throw badRequest("Request body contains too many items");
        if (keys[0] !== k) throw badRequest("Request body and URI mismatch");
        const v = specValue(k, body[k]);
        const f = await flavorOr404(ctx.params.flavor_id);
        await setSpecs(db, f.id, { [k]: v });
        return body;
      },
    }),
    route({
      method: "DELETE",
      path: `${F}/os-extra_specs/:key`,
      policy: "os_compute_api:os-flavor-extra-specs:delete",
      handler: async (ctx: Ctx) => {
        const f = await flavorOr404(ctx.params.flavor_id);
        const k = ctx.params.key;
        const r = await db
          .deleteFrom("compute_flavor_extra_spec")
          .where("flavor_id", "=", f.id)
          .where("spec_key", "=", k)
          .executeTakeFirst();
        if (Number(r.numDeletedRows) === 0)
          throw notFound(`Flavor ${f.flavorid} has no extra specs with key ${k}.`);
        return reply(200, undefined); // Nova answers 200 here (202 for the flavor itself)
      },
    }),
    route({
      method: "GET",
      path: `${F}/os-flavor-access`,
      policy: "os_compute_api:os-flavor-access",
      handler: async (ctx: Ctx) => {
        const f = await flavorOr404(ctx.params.flavor_id);
        if (fromDbBool(f.is_public)) throw notFound("Access list not available for public flavors.");
        return accessList(f);
      },
    }),
    route({
      method: "POST",
      path: `${F}/action`,
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const body = objectBody(ctx);
        const action = Object.keys(body)[0];
        if (action !== "addTenantAccess" && action !== "removeTenantAccess")
          throw badRequest("There is no such action: " + String(action));
        ctx.authorize(
          action === "addTenantAccess"
            ? "os_compute_api:os-flavor-access:add_tenant_access"
            : "os_compute_api:os-flavor-access:remove_tenant_access",
          ctx.params,
        );
        const arg = body[action] as Record<string, unknown> | null;
        const tenant = arg && typeof arg === "object" ? arg.tenant : undefined;
        if (typeof tenant !== "string" || tenant === "" || tenant.length > 255)
          throw badRequest(`Invalid input for field/attribute ${action}. 'tenant' is a required property`);
        const f = await flavorOr404(ctx.params.flavor_id);
        const projects = await accessProjects(db, f.id);
        if (action === "addTenantAccess") {
          if (fromDbBool(f.is_public)) throw conflict("Can not add access to a public flavor.");
          if (projects.includes(tenant))
            throw conflict(
              `Flavor access already exists for flavor ${f.flavorid} and project ${tenant} combination.`,
            );
          try {
            await db
              .insertInto("compute_flavor_project")
              .values({ flavor_id: f.id, project_id: tenant })
              .execute();
          } catch (e) {
            if (!isUniqueViolation(e)) throw e;
          }
        } else {
          if (!projects.includes(tenant))
            throw notFound(`Flavor access not found for ${f.flavorid} / ${tenant} combination.`);
          await db
            .deleteFrom("compute_flavor_project")
            .where("flavor_id", "=", f.id)
            .where("project_id", "=", tenant)
            .execute();
        }
        return accessList(f);
      },
    }),
  ];
}
