import { randomUUID } from "node:crypto";
import { ApiError } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";
import { json } from "../tables.js";

/** An OAuth1 consumer (OS-OAUTH1); the secret is only ever shown when it is created. */
export interface Consumer {
  id: string;
  description: string | null;
  secret: string;
  extra: Record<string, unknown>;
}

const fromRow = (r: {
  id: string;
  description: string | null;
  secret: string;
  extra: string | null;
}): Consumer => ({ id: r.id, description: r.description, secret: r.secret, extra: json(r.extra, {}) });

/** Keystone's 404 for a consumer (a bare NotFound with this message). */
const consumerNotFound = () => new ApiError(404, "Consumer not found");

/** A consumer by id, or null. */
export async function findConsumer(core: IdentityCore, id: string): Promise<Consumer | null> {
  const r = await core.db.selectFrom("identity_consumer").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** A consumer by id, or 404. */
export async function getConsumer(core: IdentityCore, id: string): Promise<Consumer> {
  const c = await findConsumer(core, id);
  if (!c) throw consumerNotFound();
  return c;
}

/** Every consumer. */
export async function listConsumers(core: IdentityCore): Promise<Consumer[]> {
  return (await core.db.selectFrom("identity_consumer").selectAll().orderBy("id").execute()).map(fromRow);
}

/** Create a consumer with a fresh random secret. */
export async function createConsumer(
  core: IdentityCore,
  c: { description: string | null; extra: Record<string, unknown> },
): Promise<Consumer> {
  const id = core.newId();
  await core.db
    .insertInto("identity_consumer")
    .values({
      id,
      description: c.description,
      secret: randomUUID().replace(/-/g, ""),
      extra: JSON.stringify(c.extra),
    })
    .execute();
  core.changed();
  return getConsumer(core, id);
}

/** Update a consumer's description and extra attributes (the secret never changes). */
export async function updateConsumer(
  core: IdentityCore,
  c: Consumer,
  patch: { description?: string | null; extra: Record<string, unknown> },
): Promise<Consumer> {
  await core.db
    .updateTable("identity_consumer")
    .set({
      description: patch.description === undefined ? c.description : patch.description,
      extra: JSON.stringify({ ...c.extra, ...patch.extra }),
    })
    .where("id", "=", c.id)
    .execute();
  core.changed();
  return getConsumer(core, c.id);
}

/** Delete a consumer; 404 when it does not exist. */
export async function deleteConsumer(core: IdentityCore, id: string): Promise<void> {
  const r = await core.db.deleteFrom("identity_consumer").where("id", "=", id).executeTakeFirst();
  if (!Number(r.numDeletedRows)) throw consumerNotFound();
  core.changed();
}
