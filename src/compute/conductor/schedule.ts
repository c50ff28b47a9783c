// Building a ScheduleRequest from an instance: its flavor and request spec, and its server group's members.
import type { Kysely } from "kysely";
import type { Instance } from "../instances/store.js";
import type { ScheduleRequest } from "../scheduler/types.js";

/** The server group of an instance with the hosts of its other live members, if it is in one. */
export async function groupOf(db: Kysely<any>, inst: Instance): Promise<ScheduleRequest["group"]> {
  const uuid = inst.request_spec.groupUuid;
  if (!uuid) return undefined;
  const g = (await db
    .selectFrom("compute_server_group")
    .select(["uuid", "policy", "rules"])
    .where("uuid", "=", uuid)
    .executeTakeFirst()) as { uuid: string; policy: string; rules: string } | undefined;
  if (!g) return undefined;
  const rows = (await db
    .selectFrom("compute_server_group_member")
    .innerJoin("compute_instance", "compute_instance.uuid", "compute_server_group_member.instance_uuid")
    .select(["compute_instance.host"])
    .where("compute_server_group_member.group_uuid", "=", uuid)
    .where("compute_instance.uuid", "!=", inst.uuid)
    .where("compute_instance.deleted", "=", 0)
    .execute()) as Array<{ host: string | null }>;
  return {
    uuid: g.uuid,
    policy: g.policy,
    rules: JSON.parse(g.rules) as Record<string, unknown>,
    hosts: rows.map((r) => r.host).filter((h): h is string => h !== null),
  };
}

/** The scheduling request for placing `inst` (a build: consumer = the instance). */
export async function buildRequest(
  db: Kysely<any>,
  inst: Instance,
  alternates: number,
  extra: Partial<ScheduleRequest> = {},
): Promise<ScheduleRequest> {
  return {
    instanceUuid: inst.uuid,
    consumer: inst.uuid,
    projectId: inst.project_id,
    userId: inst.user_id,
    flavor: inst.flavor,
    spec: inst.request_spec,
    alternates,
    requestedHost: inst.request_spec.forcedHost,
    group: await groupOf(db, inst),
    ...extra,
  };
}
