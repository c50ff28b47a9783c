// The agent's side of volumes (Nova's compute manager attach_volume / detach_volume / extend_volume and
// os-brick's connector): the host's connector, the block storage service's connection info turned into the
// driver's VolumeSource, and the driver calls. The block storage calls themselves are made by the control plane,
// which holds the service clients; split agents only talk to the bus.
import type { Handlers } from "../../shared/bus/index.js";
import { InvalidInstanceState, requireCapability } from "../drivers/errors.js";
import type { InstanceSpec, VolumeSource } from "../drivers/types.js";
import type { Kysely } from "kysely";
import { listBdms } from "../volumes/bdm-store.js";
import type { agentContract } from "../rpc.js";
import type { ConnectionInfo, VolumeConnector } from "../volume-client.js";
import type { AgentDeps } from "./deps.js";

/** The connector of a compute host (os-brick's connector properties, as the attachments API takes them). */
export function hostConnector(host: string, ip = "127.0.0.1"): VolumeConnector {
  const safe = host.toLowerCase().replace(/[^a-z0-9.-]/g, "-");
  return {
    host,
    initiator: `iqn.2010-10.org.openstack:${safe}`,
    ip,
    platform: "x86_64",
    os_type: "linux",
    multipath: false,
  };
}

/** A connection info's volume source; an unknown transport is an error (the driver could not use it). */
export function volumeSource(ci: ConnectionInfo): VolumeSource {
  const source = transportSource(ci);
  return ci.multiattach === true ? { ...source, shared: true } : source;
}

/** The transport half of a connection info's volume source. */
function transportSource(ci: ConnectionInfo): VolumeSource {
  const readOnly = ci.data.access_mode === "ro";
  if (ci.driver_volume_type === "iscsi") {
    const d = ci.data;
    return {
      type: "iscsi",
      portal: d.target_portal,
      target: d.target_iqn,
      lun: d.target_lun,
      ...(d.auth_username !== undefined && d.auth_password !== undefined
        ? { chap: { user: d.auth_username, password: d.auth_password } }
        : {}),
      readOnly,
    };
  }
  if (ci.driver_volume_type === "nbd") {
    const d = ci.data;
    if (d.socket_path) return { type: "nbd", socketPath: d.socket_path, export: d.export_name, readOnly };
    if (d.host && d.port) return { type: "nbd", host: d.host, port: d.port, export: d.export_name, readOnly };
    throw new Error("NBD connection info has neither a socket path nor a host and port");
  }
  throw new Error(
    `Volume driver type ${String((ci as { driver_volume_type?: unknown }).driver_volume_type)} is not supported`,
  );
}

/** The volumes a server has from its first boot on this host: its connected mappings (empty when none). */
export async function specVolumes(
  db: Kysely<any>,
  uuid: string,
): Promise<NonNullable<InstanceSpec["volumes"]>> {
  const out: NonNullable<InstanceSpec["volumes"]> = [];
  for (const b of await listBdms(db, uuid))
    if (b.volumeId && b.connectionInfo)
      out.push({
        volumeId: b.volumeId,
        source: volumeSource(b.connectionInfo),
        ...(b.bootIndex !== null ? { bootIndex: b.bootIndex } : {}),
      });
  return out;
}

/** The handlers of volume attach, detach and extend. */
export function volumeHandlers(
  deps: AgentDeps,
): Pick<
  Handlers<typeof agentContract>,
  "volume_connector" | "attach_volume" | "detach_volume" | "extend_volume"
> {
  const { driver } = deps;
  return {
    volume_connector: async () => hostConnector(deps.host),
    attach_volume: ({ uuid, volumeId, connectionInfo }) =>
      deps.lock(uuid, async () => {
        const source = volumeSource(connectionInfo);
        // Nova's MultiattachNotSupportedByVirtDriver: a shareable volume needs a driver that can share a disk.
        if (source.shared && !driver.capabilities.supportsMultiattach)
          throw new Error(
            `Volume ${volumeId} has 'multiattach' set, which is not supported for this instance.`,
          );
        await requireCapability(driver, "attachVolume").attachVolume(uuid, volumeId, source);
      }),
    detach_volume: ({ uuid, volumeId }) =>
      deps.lock(uuid, async () => {
        // Nova detaches a volume the guest no longer has without complaint (a failed attach, a rebuilt guest).
        if (!(await driver.listInstances()).includes(uuid)) return;
        await requireCapability(driver, "detachVolume")
          .detachVolume(uuid, volumeId)
          .catch((e: unknown) => {
            if (e instanceof InvalidInstanceState && /not attached/.test(e.message)) return;
            throw e;
          });
      }),
    extend_volume: ({ uuid, volumeId, sizeBytes }) =>
      deps.lock(uuid, () =>
        requireCapability(driver, "extendVolume").extendVolume(uuid, volumeId, sizeBytes),
      ),
  };
}
