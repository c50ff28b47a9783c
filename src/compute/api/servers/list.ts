// GET /servers and /servers/detail: Nova's filters (admin-only ones dropped for others), sorting and paging.
import type { Kysely, SelectQueryBuilder } from "kysely";
import type { ComputeCore } from "../../core.js";
import { badRequest } from "../../errors.js";
import { parseInstance, type Instance } from "../../instances/store.js";
import { statusToStates } from "../../instances/states.js";
import { MAX_LIMIT, intParam, isAdmin, nextLink, type Ctx } from "../common.js";
import { refId } from "./create-input.js";
import { briefView, detailView, loadExtras } from "./view.js";

const SORT_KEYS = new Map<string, string>(
  Object.entries({
    access_ip_v4: "access_ip_v4",
    access_ip_v6: "access_ip_v6",
    availability_zone: "availability_zone",
    config_drive: "config_drive",
    created_at: "created_at",
    display_description: "description",
    display_name: "display_name",
    host: "host",
    hostname: "hostname",
    image_ref: "image_ref",
    instance_type_id: "memory_mb",
    kernel_id: "id",
    key_name: "key_name",
    launch_index: "launch_index",
    launched_at: "launched_at",
    locked: "locked",
    locked_by: "locked_by",
    node: "node",
    power_state: "power_state",
    progress: "progress",
    project_id: "project_id",
    ramdisk_id: "id",
    task_state: "task_state",
    terminated_at: "terminated_at",
    updated_at: "updated_at",
    user_id: "user_id",
    uuid: "uuid",
    vm_state: "vm_state",
  }),
);

/** Nova's 'date-time' format: ISO 8601 with a "T" (or space) between date and time. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

const bool = (v: string) => /^(true|1|yes|on|t|y)$/i.test(v);
const multi = (q: Record<string, string | string[] | undefined>, k: string): string[] => {
  const v = q[k];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

/** Python-ish regex search on a column, done in JS after the SQL filters (names are short). */
function nameMatcher(pattern: string): (s: string) => boolean {
  try {
    const re = new RegExp(pattern);
    return (s) => re.test(s);
  } catch {
    return (s) => s.includes(pattern);
  }
}

type Q = SelectQueryBuilder<any, any, any>;

function tagFilter(db: Kysely<any>, q: Q, tags: string[], any: boolean, not: boolean): Q {
  if (tags.length === 0) return q;
  const sub = (t: string[]) =>
    db.selectFrom("compute_instance_tag").select("instance_uuid").where("tag", "in", t);
  if (any) return q.where("uuid", not ? "not in" : "in", sub(tags));
  // All tags: every one must be present (or, negated, not all present).
  const all = db
    .selectFrom("compute_instance_tag")
    .select("instance_uuid")
    .where("tag", "in", tags)
    .groupBy("instance_uuid")
    .having((eb) => eb.fn.count("tag"), "=", tags.length);
  return q.where("uuid", not ? "not in" : "in", all);
}

/** The list handler for both views. */
export async function listServers(core: ComputeCore, ctx: Ctx, detail: boolean) {
  const { db } = core;
  const admin = isAdmin(ctx);
  const project = ctx.auth?.projectId ?? "";
  const query = ctx.query as Record<string, string | string[] | undefined>;
  const one = (k: string): string | undefined => {
    const v = query[k];
    return Array.isArray(v) ? v[v.length - 1] : v;
  };
  const mv = ctx.microversion;
  const allTenants =
    one("all_tenants") !== undefined &&
    ctx.allowed(`os_compute_api:servers:${detail ? "detail" : "index"}:get_all_tenants`, {
      project_id: project,
    });
  let q: Q = db.selectFrom("compute_instance").selectAll();
  const changesSince = one("changes-since");
  const changesBefore = mv.gte("2.66") ? one("changes-before") : undefined;
  for (const [k, v] of [
    ["changes-since", changesSince],
    ["changes-before", changesBefore],
  ] as const)
    if (v !== undefined && (!ISO_8601.test(v) || Number.isNaN(Date.parse(v))))
      throw badRequest(`Invalid input for query parameters ${k}. Value: ${v}. '${v}' is not a 'date-time'`);
  if (changesSince && changesBefore && Date.parse(changesSince) > Date.parse(changesBefore))
    throw badRequest("The value of changes-since must be less than or equal to changes-before.");
  const deleted = admin && one("deleted") !== undefined && bool(one("deleted")!);
  if (changesSince) q = q.where("updated_at", ">=", new Date(changesSince).toISOString());
  if (changesBefore) q = q.where("updated_at", "<=", new Date(changesBefore).toISOString());
  if (!changesSince && !changesBefore) q = deleted ? q.where("deleted", "!=", 0) : q.where("deleted", "=", 0);
  if (!allTenants) q = q.where("project_id", "=", project);
  else {
    const p = one("project_id") ?? one("tenant_id");
    if (p) q = q.where("project_id", "=", p);
  }
  const status = one("status");
  if (status !== undefined) {
    const st = statusToStates(status);
    if (!st) return { servers: [] }; // Nova: an unknown status matches nothing
    q = q.where("vm_state", "in", st.vmStates);
    if (st.taskStates) q = q.where("task_state", "in", st.taskStates);
  }
  const image = one("image");
  if (image) q = q.where("image_ref", "=", refId(image));
  const flavor = one("flavor");
  if (flavor) q = q.where("flavor", "like", `%"flavorid":${JSON.stringify(refId(flavor))}%`);
  const reservation = one("reservation_id");
  if (reservation) q = q.where("reservation_id", "=", reservation);
  const az = one("availability_zone");
  if (az && (admin || mv.gte("2.83"))) q = q.where("availability_zone", "=", az);
  if (admin || mv.gte("2.83")) {
    const key = one("key_name");
    if (key) q = q.where("key_name", "=", key);
    const uid = one("user_id");
    if (uid) q = q.where("user_id", "=", uid);
    const pwr = one("power_state");
    if (pwr !== undefined && /^\d+$/.test(pwr)) q = q.where("power_state", "=", Number(pwr));
    const vm = one("vm_state");
    if (vm) q = q.where("vm_state", "=", vm);
    const task = one("task_state");
    if (task) q = q.where("task_state", "=", task);
  }
  if (admin) {
    const host = one("host");
    if (host) q = q.where("host", "=", host);
    const node = one("node");
    if (node) q = q.where("node", "=", node);
  }
  if (mv.gte("2.73") && one("locked") !== undefined) {
    const l = one("locked")!;
    if (!/^(true|false|1|0|yes|no|on|off|t|f|y|n)$/i.test(l))
      throw badRequest(`Invalid input for query parameters locked. Value: ${l}. Unrecognized value '${l}'`);
    q = q.where("locked", "=", bool(l) ? 1 : 0);
  }
  if (mv.gte("2.26")) {
    const split = (k: string) =>
      multi(query, k)
        .flatMap((v) => v.split(","))
        .filter(Boolean);
    q = tagFilter(db, q, split("tags"), false, false);
    q = tagFilter(db, q, split("tags-any"), true, false);
    q = tagFilter(db, q, split("not-tags"), false, true);
    q = tagFilter(db, q, split("not-tags-any"), true, true);
  }
  // Sorting: repeated sort_key/sort_dir pairs; default created_at desc then id desc.
  const keys = multi(query, "sort_key");
  const dirs = multi(query, "sort_dir");
  for (const d of dirs)
    if (d !== "asc" && d !== "desc")
      throw badRequest(`Invalid input for query parameters sort_dir. Value: ${d}.`);
  const order: Array<[string, "asc" | "desc"]> = [];
  keys.forEach((k, i) => {
    const col = SORT_KEYS.get(k);
    if (!col) throw badRequest(`Invalid input for query parameters sort_key. Value: ${k}.`);
    if (["host", "node"].includes(k) && !admin) return;
    order.push([col, (dirs[i] ?? dirs[0] ?? "desc") as "asc" | "desc"]);
  });
  if (order.length === 0) order.push(["created_at", "desc"]);
  if (!order.some(([c]) => c === "id")) order.push(["id", order[0][1]]);
  for (const [c, d] of order) q = q.orderBy(c, d);
  const limit = Math.min(intParam("limit", one("limit")) ?? MAX_LIMIT, MAX_LIMIT);
  const marker = one("marker");
  let rows: Instance[];
  const name = one("name");
  const matches = name === undefined ? null : nameMatcher(name);
  const ip = one("ip") ?? one("ip6");
  const defaultOrder =
    order.length === 2 && order[0][0] === "created_at" && order[1][0] === "id" && order[0][1] === order[1][1];
  if (marker !== undefined && !matches && !ip && defaultOrder) {
    // Keyset paging on (created_at, id): each page costs what the first does.
    const m = (await db
      .selectFrom("compute_instance")
      .select(["created_at", "id"])
      .where("uuid", "=", marker)
      .executeTakeFirst()) as { created_at: string; id: number } | undefined;
    if (!m) throw badRequest(`marker [${marker}] not found`);
    const cmp = order[0][1] === "desc" ? "<" : ">";
    q = q.where((eb) =>
      eb.or([
        eb("created_at", cmp, m.created_at),
        eb.and([eb("created_at", "=", m.created_at), eb("id", cmp, Number(m.id))]),
      ]),
    );
    rows = (await q.limit(limit).execute()).map(parseInstance);
  } else if (marker !== undefined || matches || ip) {
    // Marker paging over the ordered, filtered set (names and IPs are matched here, as Nova does in Python).
    let all = (await q.execute()).map(parseInstance);
    if (matches) all = all.filter((i) => matches(i.display_name));
    if (ip) all = all.filter((i) => JSON.stringify(i.addresses).includes(ip));
    let start = 0;
    if (marker !== undefined) {
      const at = all.findIndex((i) => i.uuid === marker);
      if (at < 0) throw badRequest(`marker [${marker}] not found`);
      start = at + 1;
    }
    rows = all.slice(start, start + limit);
  } else rows = (await q.limit(limit).execute()).map(parseInstance);
  const key = "servers";
  const out: Record<string, unknown> = {};
  if (detail) {
    const extras = await loadExtras(core, ctx, rows);
    out[key] = rows.map((i) => detailView(ctx, i, extras));
  } else out[key] = rows.map((i) => briefView(ctx, i));
  if (rows.length === limit && rows.length > 0)
    out.servers_links = nextLink(ctx, rows[rows.length - 1].uuid, limit);
  return out;
}
