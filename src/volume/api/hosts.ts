// os-hosts (each service's host, and a volume host's usage) and capabilities/{host} (a backend's capabilities).
import { route, type Route } from "../../shared/http/route.js";
import { VENDOR_NAME } from "../capabilities.js";
import type { VolumeCore } from "../core.js";
import { notFound } from "../errors.js";
import { backendOfService, serviceHostName, VOLUME_BINARY } from "../scheduler.js";
import { listServices, serviceUp, statsOf } from "../store/services.js";
import type { ServiceRow } from "../store/rows.js";
import { listSnapshots } from "../store/snapshots.js";
import { listVolumes } from "../store/volumes.js";
import { isoTime, type Ctx } from "./common.js";

const P = "/v3/:project_id";

/** The enabled volume service of "host@backend" (a "#pool" suffix ignored), or 404. */
async function volumeServiceOf(core: VolumeCore, name: string): Promise<ServiceRow> {
  const host = name.split("#", 1)[0];
  const s = (await listServices(core)).find(
    (x) => x.binary === VOLUME_BINARY && !x.disabled && serviceHostName(x) === host,
  );
  if (!s) throw notFound(`Host ${name} could not be found.`);
  return s;
}

const usage = (host: string, project: string, vols: { size: number }[], snaps: { size: number }[]) => ({
  resource: {
    host,
    project,
    volume_count: String(vols.length),
    total_volume_gb: String(vols.reduce((n, v) => n + v.size, 0)),
    snapshot_count: String(snaps.length),
    total_snapshot_gb: String(snaps.reduce((n, s) => n + s.size, 0)),
  },
});

/** A volume host's usage: the total, then one entry per project with volumes there (Cinder's os-hosts show). */
async function showHost(core: VolumeCore, ctx: Ctx) {
  const s = await volumeServiceOf(core, ctx.params.host_name);
  const name = serviceHostName(s);
  const onHost = (h: string | null) => h !== null && h.split("#", 1)[0] === name;
  const vols = (await listVolumes(core, null)).filter((v) => onHost(v.host));
  const volIds = new Set(vols.map((v) => v.id));
  const snaps = (await listSnapshots(core, null)).filter((x) => volIds.has(x.volume_id));
  const projects = [...new Set(vols.map((v) => v.project_id))].sort();
  return {
    host: [
      usage(name, "(total)", vols, snaps),
      ...projects.map((p) =>
        usage(
          name,
          p,
          vols.filter((v) => v.project_id === p),
          snaps.filter((x) => x.project_id === p),
        ),
      ),
    ],
  };
}

/** Routes of os-hosts and capabilities. */
export function hostRoutes(core: VolumeCore): Route[] {
  return [
    route({
      method: "GET",
      path: `${P}/os-hosts`,
      policy: "volume_extension:hosts",
      handler: async () => ({
        hosts: (await listServices(core)).map((s) => ({
          host_name: serviceHostName(s),
          service: s.binary,
          zone: s.zone,
          "service-status": serviceUp(core, s) ? "available" : "unavailable",
          "service-state": s.disabled ? "disabled" : "enabled",
          "last-update": isoTime(s.updated_at),
        })),
      }),
    }),
    route({
      method: "GET",
      path: `${P}/os-hosts/:host_name`,
      policy: "volume_extension:hosts",
      handler: (ctx) => showHost(core, ctx),
    }),
    route({
      method: "GET",
      path: `${P}/capabilities/:host_name`,
      policy: "volume_extension:capabilities",
      handler: async (ctx) => {
        const s = await volumeServiceOf(core, ctx.params.host_name);
        const st = statsOf(s);
        return {
          namespace: `OS::Storage::Capabilities::${serviceHostName(s)}`,
          vendor_name: VENDOR_NAME,
          volume_backend_name: backendOfService(s).volumeBackendName,
          pool_name: null,
          driver_version: "1.0",
          storage_protocol: (st?.protocols ?? []).join("/"),
          display_name: null,
          description: null,
          visibility: null,
          replication_targets: [],
          properties: {
            thin_provisioning: {
              title: "Thin Provisioning",
              description: "Sets thin provisioning.",
              type: "boolean",
            },
          },
        };
      },
    }),
  ];
}
