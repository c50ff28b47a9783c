import { badRequest, ApiError } from "../../shared/http/errors.js";
import { fromDbBool, isUniqueViolation, toDbBool } from "../../shared/db/index.js";
import type { IdentityCore } from "../core.js";
import { duplicate, notFoundEntity } from "../errors.js";
import { json, type IdentityTables } from "../tables.js";

/** Root marker used as domain_id of domains (domains are projects with is_domain). */
export const DOMAIN_ROOT = "<<keystone.domain.root>>";

/** A project or domain as the service sees it. */
export interface Project {
  id: string;
  name: string;
  domain_id: string | null;
  parent_id: string | null;
  is_domain: boolean;
  description: string;
  enabled: boolean;
  tags: string[];
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}

type Row = IdentityTables["identity_project"];

function fromRow(r: Row, tags: string[]): Project {
  const isDomain = fromDbBool(r.is_domain);
  return {
    id: r.id,
    name: r.name,
    domain_id: isDomain ? null : r.domain_id,
    parent_id: isDomain ? null : r.parent_id,
    is_domain: isDomain,
    description: r.description ?? "",
    enabled: fromDbBool(r.enabled),
    tags,
    options: json(r.options, {}),
    extra: json(r.extra, {}),
  };
}

async function tagsFor(core: IdentityCore, ids: string[]): Promise<Map<string, string[]>> {
  const m = new Map<string, string[]>();
  if (ids.length === 0) return m;
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await core.db
      .selectFrom("identity_project_tag")
      .selectAll()
      .where("project_id", "in", ids.slice(i, i + 500))
      .execute();
    for (const r of rows) m.set(r.project_id, [...(m.get(r.project_id) ?? []), r.name]);
  }
  return m;
}

/** Fetch a project or domain by id, or null. */
export async function findProject(core: IdentityCore, id: string): Promise<Project | null> {
  const r = await core.db.selectFrom("identity_project").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) return null;
  return fromRow(r, (await tagsFor(core, [id])).get(id) ?? []);
}

/** Fetch a project (not a domain) or throw 404. */
export async function getProject(core: IdentityCore, id: string): Promise<Project> {
  const p = await findProject(core, id);
  if (!p || p.is_domain) throw notFoundEntity("project", id);
  return p;
}

/** Fetch a domain or throw 404. */
export async function getDomain(core: IdentityCore, id: string): Promise<Project> {
  const p = await findProject(core, id);
  if (!p || !p.is_domain) throw notFoundEntity("domain", id);
  return p;
}

/** Find a domain by name, or null. */
export async function findDomainByName(core: IdentityCore, name: string): Promise<Project | null> {
  const r = await core.db
    .selectFrom("identity_project")
    .selectAll()
    .where("is_domain", "=", 1)
    .where("name", "=", name)
    .executeTakeFirst();
  return r ? fromRow(r, []) : null;
}

/** Find a project by name within a domain, or null. */
export async function findProjectByName(
  core: IdentityCore,
  name: string,
  domainId: string,
): Promise<Project | null> {
  const r = await core.db
    .selectFrom("identity_project")
    .selectAll()
    .where("is_domain", "=", 0)
    .where("name", "=", name)
    .where("domain_id", "=", domainId)
    .executeTakeFirst();
  return r ? fromRow(r, (await tagsFor(core, [r.id])).get(r.id) ?? []) : null;
}

/** Filters for listing projects or domains. */
export interface ProjectFilter {
  is_domain?: boolean;
  name?: string;
  domain_id?: string;
  parent_id?: string;
  enabled?: boolean;
  ids?: string[];
  tags?: string[];
  tags_any?: string[];
  not_tags?: string[];
  not_tags_any?: string[];
}

/** List projects/domains matching a filter, ordered by name. */
export async function listProjects(core: IdentityCore, f: ProjectFilter): Promise<Project[]> {
  let q = core.db.selectFrom("identity_project").selectAll();
  if (f.is_domain !== undefined) q = q.where("is_domain", "=", toDbBool(f.is_domain));
  if (f.name !== undefined) q = q.where("name", "=", f.name);
  if (f.domain_id !== undefined) q = q.where("domain_id", "=", f.domain_id).where("is_domain", "=", 0);
  if (f.parent_id !== undefined) q = q.where("parent_id", "=", f.parent_id);
  if (f.enabled !== undefined) q = q.where("enabled", "=", toDbBool(f.enabled));
  if (f.ids !== undefined) {
    if (f.ids.length === 0) return [];
    q = q.where("id", "in", f.ids);
  }
  const rows = await q.orderBy("name").execute();
  const tags = await tagsFor(
    core,
    rows.map((r) => r.id),
  );
  let out = rows.map((r) => fromRow(r, tags.get(r.id) ?? []));
  const has = (p: Project, t: string): boolean => p.tags.includes(t);
  if (f.tags) out = out.filter((p) => f.tags!.every((t) => has(p, t)));
  if (f.tags_any) out = out.filter((p) => f.tags_any!.some((t) => has(p, t)));
  if (f.not_tags) out = out.filter((p) => !f.not_tags!.every((t) => has(p, t)));
  if (f.not_tags_any) out = out.filter((p) => !f.not_tags_any!.some((t) => has(p, t)));
  return out;
}

/** Fields accepted when creating a project or domain. */
export interface ProjectInput {
  id?: string;
  name: string;
  domain_id?: string | null;
  parent_id?: string | null;
  is_domain?: boolean;
  description?: string | null;
  enabled?: boolean;
  tags?: string[];
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

function checkTags(tags: string[] | undefined): void {
  if (!tags) return;
  if (tags.length > 80) throw badRequest("Invalid input: a project may have at most 80 tags.");
  for (const t of tags)
    if (t.includes(",") || t.includes("/") || t.length > 255)
      throw badRequest(`Invalid tag '${t}': tags may not contain ',' or '/' and are at most 255 characters.`);
}

/** Create a project or domain; validates parent/domain consistency; 409 on a duplicate name. */
export async function createProject(core: IdentityCore, input: ProjectInput): Promise<Project> {
  const isDomain = input.is_domain ?? false;
  let domainId = input.domain_id ?? null;
  let parentId = input.parent_id ?? null;
  checkTags(input.tags);
  if (isDomain) {
    if (parentId) throw badRequest("Invalid input: a domain cannot have a parent project.");
    domainId = DOMAIN_ROOT;
  } else {
    if (parentId) {
      const parent = await findProject(core, parentId);
      if (!parent) throw notFoundEntity("project", parentId);
      const parentDomain = parent.is_domain ? parent.id : (parent.domain_id as string);
      if (domainId && domainId !== parentDomain)
        throw new ApiError(
          400,
          "Invalid input: the project's domain_id must be the same as its parent's domain.",
        );
      domainId = parentDomain;
      if (!parent.is_domain && !parent.enabled && input.enabled !== false)
        throw new ApiError(403, `Cannot create an enabled project under the disabled project ${parentId}.`);
    }
    if (!domainId) throw badRequest("Invalid input: domain_id is required.");
    const dom = await findProject(core, domainId);
    if (!dom || !dom.is_domain) throw notFoundEntity("domain", domainId);
    if (!parentId) parentId = domainId;
  }
  const id = input.id ?? core.newId();
  try {
    await core.db.transaction().execute(async (tx) => {
      await tx
        .insertInto("identity_project")
        .values({
          id,
          name: input.name,
          domain_id: domainId as string,
          parent_id: parentId,
          is_domain: toDbBool(isDomain),
          description: input.description ?? null,
          enabled: toDbBool(input.enabled ?? true),
          extra: JSON.stringify(input.extra ?? {}),
          options: JSON.stringify(input.options ?? {}),
        })
        .execute();
      for (const t of new Set(input.tags ?? []))
        await tx.insertInto("identity_project_tag").values({ project_id: id, name: t }).execute();
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate(isDomain ? "domain" : "project", "name", input.name);
    throw e;
  }
  core.changed();
  return (await findProject(core, id)) as Project;
}

/** Fields that may be changed on a project or domain. */
export interface ProjectPatch {
  name?: string;
  description?: string | null;
  enabled?: boolean;
  tags?: string[];
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Update a project or domain; returns the new state. */
export async function updateProject(
  core: IdentityCore,
  existing: Project,
  patch: ProjectPatch,
): Promise<Project> {
  checkTags(patch.tags);
  const values: Partial<IdentityTables["identity_project"]> = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.description !== undefined) values.description = patch.description;
  if (patch.enabled !== undefined) values.enabled = toDbBool(patch.enabled);
  if (patch.options !== undefined) values.options = JSON.stringify({ ...existing.options, ...patch.options });
  if (patch.extra !== undefined) values.extra = JSON.stringify({ ...existing.extra, ...patch.extra });
  try {
    await core.db.transaction().execute(async (tx) => {
      if (Object.keys(values).length)
        await tx.updateTable("identity_project").set(values).where("id", "=", existing.id).execute();
      if (patch.tags !== undefined) {
        await tx.deleteFrom("identity_project_tag").where("project_id", "=", existing.id).execute();
        for (const t of new Set(patch.tags))
          await tx.insertInto("identity_project_tag").values({ project_id: existing.id, name: t }).execute();
      }
    });
  } catch (e) {
    if (isUniqueViolation(e))
      throw duplicate(existing.is_domain ? "domain" : "project", "name", patch.name ?? existing.name);
    throw e;
  }
  core.changed();
  return (await findProject(core, existing.id)) as Project;
}

/** Ids of a project's ancestors, nearest first, up to (and including) its domain. */
export async function ancestorIds(core: IdentityCore, projectId: string): Promise<string[]> {
  const out: string[] = [];
  let cur = await core.db
    .selectFrom("identity_project")
    .select(["parent_id", "is_domain"])
    .where("id", "=", projectId)
    .executeTakeFirst();
  while (cur && cur.parent_id && !fromDbBool(cur.is_domain) && out.length < 100) {
    out.push(cur.parent_id);
    cur = await core.db
      .selectFrom("identity_project")
      .select(["parent_id", "is_domain"])
      .where("id", "=", cur.parent_id)
      .executeTakeFirst();
  }
  return out;
}

/** Ids of every project below a project (children, grandchildren, ...). */
export async function descendantIds(core: IdentityCore, projectId: string): Promise<string[]> {
  const out: string[] = [];
  let frontier = [projectId];
  while (frontier.length && out.length < 100_000) {
    const rows = await core.db
      .selectFrom("identity_project")
      .select("id")
      .where("parent_id", "in", frontier)
      .where("is_domain", "=", 0)
      .execute();
    frontier = rows.map((r) => r.id).filter((id) => id !== projectId);
    out.push(...frontier);
  }
  return out;
}

/** Delete a project or domain row and its tags. */
export async function deleteProjectRow(core: IdentityCore, id: string): Promise<void> {
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("identity_project_tag").where("project_id", "=", id).execute();
    await tx.deleteFrom("identity_project").where("id", "=", id).execute();
  });
  core.changed();
}
