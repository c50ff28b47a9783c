// Admin moves: migrate (cold; host from 2.56), os-migrateLive (block_migration "auto" from 2.25, force in
// 2.30-2.67) and evacuate (onSharedStorage before 2.14, force in 2.29-2.67). The API validates and sets the task;
// the conductor schedules and moves (conductor/resize.ts, live.ts, evacuate.ts).
import { reply } from "../../../shared/http/reply.js";
import type { ComputeCore } from "../../core.js";
import { badRequest, notFound } from "../../errors.js";
import { createMigration } from "../../conductor/migration-records.js";
import { TaskState as T, VmState as V } from "../../instances/states.js";
import type { Instance } from "../../instances/store.js";
import { conductorContract } from "../../rpc.js";
import type { Ctx } from "../common.js";
import {
  authorizedServer,
  begin,
  checkLock,
  checkState,
  closedObject,
  fqdnField,
  generatePassword,
  loadServer,
  needHost,
  needHostUp,
  parseBoolean,
  serviceUp,
  stringField,
  type ActionTable,
} from "./common.js";

/** Whether a compute node exists for `host`. */
async function computeHostExists(core: ComputeCore, host: string): Promise<boolean> {
  const row = await core.db
    .selectFrom("compute_node")
    .select("uuid")
    .where("host", "=", host)
    .executeTakeFirst();
  return row !== undefined;
}

/** An optional nullable host member (parameter_types.fqdn or null). */
function optionalHost(field: string, v: unknown): string | null {
  return v === undefined || v === null ? null : fqdnField(field, v);
}

/** Nova's force handling: force needs a host. */
function forceFlag(field: string, v: unknown, host: string | null): boolean {
  const force = v === undefined ? false : parseBoolean(field, v);
  if (force && !host) throw badRequest("Can't force to a non-provided destination");
  return force;
}

/** Parse os-migrateLive for the microversion; returns the host (null: let the scheduler choose). */
function parseLiveMigrate(ctx: Ctx, value: unknown): string | null {
  const mv = ctx.microversion;
  const keys = ["block_migration", "host"];
  if (mv.lt("2.25")) keys.push("disk_over_commit");
  if (mv.within("2.30", "2.67")) keys.push("force");
  const required = mv.lt("2.25")
    ? ["block_migration", "disk_over_commit", "host"]
    : ["block_migration", "host"];
  const body = closedObject("os-migrateLive", value, keys, { required })!;
  if (!(mv.gte("2.25") && body.block_migration === "auto"))
    parseBoolean("os-migrateLive/block_migration", body.block_migration);
  if (mv.lt("2.25")) parseBoolean("os-migrateLive/disk_over_commit", body.disk_over_commit);
  const host = optionalHost("os-migrateLive/host", body.host);
  if (mv.within("2.30", "2.67")) forceFlag("os-migrateLive/force", body.force, host);
  return host;
}

/** migrate, os-migrateLive, evacuate. */
export const moveActions: ActionTable = {
  migrate: {
    async run(core, ctx, id, value) {
      let host: string | null = null;
      if (ctx.microversion.gte("2.56")) {
        const body = closedObject("migrate", value, ["host"], { nullable: true });
        host = optionalHost("migrate/host", body?.host);
      }
      const rule = host
        ? "os_compute_api:os-migrate-server:migrate:host"
        : "os_compute_api:os-migrate-server:migrate";
      const inst = await authorizedServer(core, ctx, id, rule);
      checkLock(ctx, inst);
      const state = { vm: [V.ACTIVE, V.STOPPED] };
      checkState(inst, "migrate", state);
      await needHostUp(core, inst);
      if (host !== null) {
        if (host === inst.host) throw badRequest("Cannot migrate to the host where the server exists.");
        if (!(await computeHostExists(core, host)))
          throw badRequest(`Compute host ${host} could not be found.`);
      }
      const rc = await begin(core, ctx, inst, {
        action: "migrate",
        record: "migrate",
        rule: state,
        patch: { task_state: T.RESIZE_PREP, progress: 0 },
      });
      await core.bus.cast(conductorContract, "migrate_server", {
        ctx: rc,
        uuid: inst.uuid,
        ...(host ? { host } : {}),
      });
    },
  },

  "os-migrateLive": {
    async run(core, ctx, id, value) {
      const host = parseLiveMigrate(ctx, value);
      const rule = host
        ? "os_compute_api:os-migrate-server:migrate_live:host"
        : "os_compute_api:os-migrate-server:migrate_live";
      const inst = await authorizedServer(core, ctx, id, rule);
      checkLock(ctx, inst);
      const state = { vm: [V.ACTIVE, V.PAUSED] };
      checkState(inst, "os-migrateLive", state);
      if (host !== null) {
        if (!(await computeHostExists(core, host)))
          throw badRequest(`Compute host ${host} could not be found.`);
        // Before 2.34 the pre-checks ran synchronously; later they fail the migration instead.
        if (ctx.microversion.lt("2.34") && host === inst.host)
          throw badRequest(`Unable to migrate instance (${inst.uuid}) to current host (${host}).`);
      }
      const rc = await begin(core, ctx, inst, {
        action: "os-migrateLive",
        record: "live-migration",
        rule: state,
        patch: { task_state: T.MIGRATING },
      });
      await core.bus.cast(conductorContract, "live_migrate", {
        ctx: rc,
        uuid: inst.uuid,
        ...(host ? { host } : {}),
      });
    },
  },

  evacuate: {
    async run(core, ctx, id, value) {
      const mv = ctx.microversion;
      const keys = ["host", "adminPass"];
      if (mv.lt("2.14")) keys.push("onSharedStorage");
      if (mv.within("2.29", "2.67")) keys.push("force");
      const body = closedObject("evacuate", value, keys, {
        required: mv.lt("2.14") ? ["onSharedStorage"] : [],
      })!;
      const host = body.host === undefined ? null : fqdnField("evacuate/host", body.host);
      const shared = mv.lt("2.14") ? parseBoolean("evacuate/onSharedStorage", body.onSharedStorage) : false;
      const given =
        body.adminPass === undefined ? undefined : stringField("evacuate/adminPass", body.adminPass);
      if (mv.within("2.29", "2.67")) forceFlag("evacuate/force", body.force, host);
      if (given !== undefined && shared) throw badRequest("admin password can't be changed on existing disk");
      const password = given ?? (shared ? null : generatePassword());

      const inst: Instance = await loadServer(core, ctx, id);
      ctx.authorize("os_compute_api:os-evacuate", { user_id: inst.user_id, project_id: inst.project_id });
      if (host !== null && !(await computeHostExists(core, host)))
        throw notFound(`Compute host ${host} not found.`);
      if (inst.host === host) throw badRequest("The target host can't be the same one.");
      const state = { vm: [V.ACTIVE, V.STOPPED, V.ERROR], task: null };
      checkState(inst, "evacuate", state);
      const source = needHost(inst);
      if (await serviceUp(core, source)) throw badRequest(`Compute service of ${source} is still in use.`);
      const rc = await begin(core, ctx, inst, {
        action: "evacuate",
        record: "evacuate",
        rule: { vm: state.vm, task: [null] },
        patch: { task_state: T.REBUILDING },
      });
      await createMigration(core.db, {
        instance_uuid: inst.uuid,
        source_compute: source,
        source_node: inst.node,
        dest_compute: host,
        status: "accepted",
        migration_type: "evacuation",
        project_id: inst.project_id,
        user_id: inst.user_id,
      });
      await core.bus.cast(conductorContract, "evacuate", {
        ctx: rc,
        uuid: inst.uuid,
        ...(host ? { host } : {}),
      });
      return mv.lt("2.14") ? reply(200, { adminPass: password }) : reply(200, undefined);
    },
  },
};
