// Availability zones, services (the agents' heartbeats), scheduler-stats/get_pools and user messages (3.3).
import { reply } from "../../shared/http/reply.js";
import { route, type Route } from "../../shared/http/route.js";
import { VENDOR_NAME } from "../capabilities.js";
import type { VolumeCore } from "../core.js";
import { notFound } from "../errors.js";
import { agentOf, backendOfService, serviceHostName, VOLUME_BINARY } from "../scheduler.js";
import { deleteMessage, getMessage, listMessages, type MessageRow } from "../store/messages.js";
import { listServices, serviceUp, statsOf } from "../store/services.js";
import { needs } from "./attachments.js";
import { updateService } from "./services.js";
import { allTenants, boolOf, callerOf, isoTime, ownerOf, ownTarget, type Ctx } from "./common.js";

const messageView = (m: MessageRow) => ({
  id: m.id,
  message_level: m.message_level,
  user_message: m.user_message,
  request_id: m.request_id,
  created_at: isoTime(m.created_at),
  guaranteed_until: isoTime(m.guaranteed_until),
  resource_uuid: m.resource_uuid,
  resource_type: m.resource_type,
  event_id: m.event_id,
  links: [] as unknown[],
});

async function messageOf(core: VolumeCore, ctx: Ctx): Promise<MessageRow> {
  needs(ctx, "3.3");
  const m = await getMessage(core, ctx.params.message_id);
  const caller = callerOf(ctx);
  if (!m || !(caller.readsAll || m.project_id === caller.projectId))
    throw notFound(`Message ${ctx.params.message_id} could not be found.`);
  return m;
}

/** Routes of zones, services, pools and messages. */
export function adminRoutes(core: VolumeCore): Route[] {
  const P = "/v3/:project_id";
  return [
    route({
      method: "GET",
      path: `${P}/os-availability-zone`,
      policy: "volume_extension:availability_zone_list",
      handler: async () => {
        const zones = new Map<string, boolean>();
        for (const s of await listServices(core))
          if (s.binary === VOLUME_BINARY)
            zones.set(s.zone, (zones.get(s.zone) ?? false) || (!s.disabled && serviceUp(core, s)));
        return {
          availabilityZoneInfo: [...zones].map(([zoneName, available]) => ({
            zoneName,
            zoneState: { available },
          })),
        };
      },
    }),
    route({
      method: "GET",
      path: `${P}/os-services`,
      policy: "volume_extension:services:index",
      handler: async (ctx) => {
        const q = ctx.query;
        const services = (await listServices(core))
          .filter(
            (s) =>
              // As Cinder's filter: the host itself, or any "host@backend" of it.
              (q.host === undefined ||
                s.host === q.host ||
                serviceHostName(s) === q.host ||
                agentOf(s.host) === q.host) &&
              (q.binary === undefined || s.binary === q.binary),
          )
          .map((s) => {
            const body: Record<string, unknown> = {
              binary: s.binary,
              host: serviceHostName(s),
              zone: s.zone,
              status: s.disabled ? "disabled" : "enabled",
              state: serviceUp(core, s) ? "up" : "down",
              updated_at: isoTime(s.updated_at),
              disabled_reason: s.disabled_reason,
            };
            if (ctx.microversion.gte("3.7")) body.cluster = null;
            if (ctx.microversion.gte("3.49") && s.binary === VOLUME_BINARY)
              body.backend_state = serviceUp(core, s) ? "up" : "down";
            return body;
          });
        return { services };
      },
    }),
    route({
      method: "PUT",
      path: `${P}/os-services/:action`,
      policy: "volume_extension:services:update",
      handler: (ctx) => updateService(core, ctx),
    }),
    route({
      method: "GET",
      path: `${P}/scheduler-stats/get_pools`,
      policy: "scheduler_extension:scheduler_stats:get_pools",
      handler: async (ctx) => {
        const detail = ctx.query.detail !== undefined && boolOf("detail", ctx.query.detail);
        const pools = [];
        for (const s of await listServices(core)) {
          const st = statsOf(s);
          if (s.binary !== VOLUME_BINARY || !st) continue;
          const backend = backendOfService(s).volumeBackendName;
          const name = `${serviceHostName(s)}#${st.pool}`;
          pools.push(
            detail
              ? {
                  name,
                  capabilities: {
                    pool_name: st.pool,
                    volume_backend_name: backend,
                    total_capacity_gb: st.totalCapacityGb,
                    free_capacity_gb: st.freeCapacityGb,
                    provisioned_capacity_gb: st.provisionedCapacityGb,
                    thin_provisioning_support: st.thinProvisioning,
                    thick_provisioning_support: !st.thinProvisioning,
                    storage_protocol: st.protocols.join("/"),
                    vendor_name: VENDOR_NAME,
                    driver_version: "1.0",
                    reserved_percentage: 0,
                    multiattach: true,
                    timestamp: isoTime(s.updated_at),
                  },
                }
              : { name },
          );
        }
        return { pools };
      },
    }),
    route({
      method: "GET",
      path: `${P}/messages`,
      policy: "message:get_all",
      target: ownTarget,
      handler: async (ctx) => {
        needs(ctx, "3.3");
        const caller = callerOf(ctx);
        const rows = await listMessages(core, allTenants(ctx, caller) ? null : ownerOf(ctx));
        return { messages: rows.map(messageView) };
      },
    }),
    route({
      method: "GET",
      path: `${P}/messages/:message_id`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const m = await messageOf(core, ctx);
        ctx.authorize("message:get", { project_id: m.project_id });
        return { message: messageView(m) };
      },
    }),
    route({
      method: "DELETE",
      path: `${P}/messages/:message_id`,
      policy: null,
      auth: "required",
      handler: async (ctx) => {
        const m = await messageOf(core, ctx);
        ctx.authorize("message:delete", { project_id: m.project_id });
        await deleteMessage(core, m.id);
        return reply(204, undefined);
      },
    }),
  ];
}
