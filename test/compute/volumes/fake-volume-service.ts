// A small in-memory block storage service speaking the REST endpoints compute uses (Cinder v3, microversion 3.44
// attachments), as a ServiceClient the compute VolumeClient sends its requests to: volumes show/create/delete and
// attachments create/update/complete/delete, snapshots create/show (available at once) and volumes from them, with
// Cinder's status changes and error bodies. Test-only.
import { randomUUID } from "node:crypto";
import type {
  ClientRequest,
  ClientResponse,
  ServiceClient,
} from "../../../src/shared/client/service-client.js";
import type { ConnectionInfo } from "../../../src/compute/volume-client.js";

/** A volume of the fake. */
export interface FakeVol {
  id: string;
  project: string;
  name: string;
  size: number;
  status: string;
  bootable: boolean;
  multiattach: boolean;
  imageId?: string;
  snapshotId?: string;
  description?: string | null;
  attachments: Set<string>;
}

/** A snapshot of the fake (available at once). */
export interface FakeSnap {
  id: string;
  project: string;
  volumeId: string;
  name: string;
  description: string | null;
  size: number;
  force: boolean;
  status: string;
}

/** An attachment of the fake. */
export interface FakeAtt {
  id: string;
  volumeId: string;
  instance: string;
  status: "reserved" | "attaching" | "attached";
  connector?: Record<string, unknown>;
}

/** One request the fake saw (method, path without the project, the microversion header). */
export interface FakeCall {
  method: string;
  path: string;
  version?: string;
}

/** The fake block storage service. */
export class FakeVolumeService implements ServiceClient {
  readonly volumes = new Map<string, FakeVol>();
  readonly attachments = new Map<string, FakeAtt>();
  readonly snapshots = new Map<string, FakeSnap>();
  readonly calls: FakeCall[] = [];
  /** The connection info handed out for a volume (default: an NBD export on a socket that does not exist). */
  connectionInfo: (v: FakeVol) => ConnectionInfo = (v) => ({
    driver_volume_type: "nbd",
    data: { socket_path: `/nonexistent/${v.id}.sock`, export_name: v.id, volume_id: v.id, access_mode: "rw" },
  });
  /** The status a volume created through the API gets (e.g. "error" to fail a boot from volume). */
  createStatus = "available";
  /** Make the next request matching `method path-regexp` answer this status (once). */
  private failures: Array<{ method: string; path: RegExp; status: number }> = [];

  failNext(method: string, path: RegExp, status = 500): void {
    this.failures.push({ method, path, status });
  }

  /** Add a volume directly (as if created by the user). */
  add(project: string, o: Partial<FakeVol> = {}): FakeVol {
    const v: FakeVol = {
      id: randomUUID(),
      project,
      name: "vol",
      size: 1,
      status: "available",
      bootable: false,
      multiattach: false,
      attachments: new Set(),
      ...o,
    };
    this.volumes.set(v.id, v);
    return v;
  }

  private view(v: FakeVol): Record<string, unknown> {
    return {
      id: v.id,
      name: v.name,
      status: v.status,
      size: v.size,
      availability_zone: "nova",
      multiattach: v.multiattach,
      bootable: String(v.bootable),
      attachments: [...v.attachments].map((a) => {
        const att = this.attachments.get(a)!;
        return { server_id: att.instance, attachment_id: a, volume_id: v.id };
      }),
      description: v.description ?? null,
      volume_type: "__DEFAULT__",
      snapshot_id: v.snapshotId ?? null,
      metadata: {},
      created_at: "2026-01-01T00:00:00.000000",
      ...(v.imageId ? { volume_image_metadata: { image_id: v.imageId } } : {}),
    };
  }

  private snapView(s: FakeSnap): Record<string, unknown> {
    return {
      id: s.id,
      volume_id: s.volumeId,
      name: s.name,
      description: s.description,
      size: s.size,
      status: s.status,
      metadata: {},
      created_at: "2026-01-01T00:00:00.000000",
    };
  }

  private attView(a: FakeAtt, withCi: boolean): Record<string, unknown> {
    const v = this.volumes.get(a.volumeId)!;
    return {
      id: a.id,
      status: a.status,
      volume_id: a.volumeId,
      instance: a.instance,
      attach_mode: "rw",
      connection_info: withCi && a.connector ? this.connectionInfo(v) : null,
    };
  }

  async request(method: string, path: string, req: ClientRequest = {}): Promise<ClientResponse> {
    const version = req.headers?.["openstack-api-version"];
    const m = /^\/v3\/([^/]+)(\/.*)$/.exec(path);
    const rest = m ? m[2] : path;
    this.calls.push({ method, path: rest, version });
    const fail = this.failures.findIndex((f) => f.method === method && f.path.test(rest));
    if (fail >= 0) {
      const f = this.failures.splice(fail, 1)[0];
      return err(f.status, "injected failure");
    }
    if (!m) return err(404, "not found");
    const project = decodeURIComponent(m[1]);
    const body = (req.body ?? {}) as Record<string, any>;
    let r: RegExpExecArray | null;
    if (method === "POST" && rest === "/volumes") {
      const b = body.volume ?? {};
      const snap = b.snapshot_id ? this.snapshots.get(b.snapshot_id) : undefined;
      if (b.snapshot_id && (!snap || snap.project !== project))
        return err(404, `Snapshot ${b.snapshot_id} could not be found.`);
      const v = this.add(project, {
        size: b.size ?? snap?.size,
        name: b.name ?? "",
        imageId: b.imageRef,
        bootable: b.imageRef !== undefined || (snap ? this.volumes.get(snap.volumeId)?.bootable : false),
        status: this.createStatus,
        ...(snap ? { snapshotId: snap.id } : {}),
      });
      return ok(202, { volume: this.view(v) });
    }
    if (method === "POST" && rest === "/snapshots") {
      const b = body.snapshot ?? {};
      const v = this.volumes.get(b.volume_id);
      if (!v || v.project !== project) return err(404, `Volume ${b.volume_id} could not be found.`);
      if (v.status !== "available" && !(b.force === true && v.status === "in-use"))
        return err(
          400,
          `Invalid volume: Volume ${v.id} status must be available, but current status is: ${v.status}.`,
        );
      const snap: FakeSnap = {
        id: randomUUID(),
        project,
        volumeId: v.id,
        name: b.name ?? "",
        description: b.description ?? null,
        size: v.size,
        force: b.force === true,
        status: "available",
      };
      this.snapshots.set(snap.id, snap);
      return ok(202, { snapshot: this.snapView(snap) });
    }
    if (method === "GET" && rest === "/snapshots/detail")
      return ok(200, {
        snapshots: [...this.snapshots.values()]
          .filter((x) => x.project === project)
          .map((x) => this.snapView(x)),
      });
    if ((r = /^\/snapshots\/([^/]+)$/.exec(rest))) {
      const snap = this.snapshots.get(decodeURIComponent(r[1]));
      if (!snap || snap.project !== project) return err(404, `Snapshot ${r[1]} could not be found.`);
      if (method === "GET") return ok(200, { snapshot: this.snapView(snap) });
      if (method === "DELETE") {
        this.snapshots.delete(snap.id);
        return ok(202, undefined);
      }
    }
    if (method === "GET" && rest === "/volumes/detail")
      return ok(200, {
        volumes: [...this.volumes.values()].filter((v) => v.project === project).map((v) => this.view(v)),
      });
    if ((r = /^\/volumes\/([^/]+)$/.exec(rest))) {
      const v = this.volumes.get(decodeURIComponent(r[1]));
      if (!v || v.project !== project) return err(404, `Volume ${r[1]} could not be found.`);
      if (method === "GET") return ok(200, { volume: this.view(v) });
      if (method === "DELETE") {
        if (v.attachments.size > 0 || !["available", "error"].includes(v.status))
          return err(
            400,
            `Invalid volume: Volume status must be available or error, but current status is: ${v.status}.`,
          );
        this.volumes.delete(v.id);
        return ok(202, undefined);
      }
    }
    if (rest.startsWith("/attachments") && version !== "volume 3.44")
      return err(404, "The resource could not be found.");
    if (method === "POST" && rest === "/attachments") {
      const v = this.volumes.get(body.attachment?.volume_uuid);
      if (!v || v.project !== project)
        return err(404, `Volume ${body.attachment?.volume_uuid} could not be found.`);
      const instance = body.attachment?.instance_uuid;
      // As Cinder: a second attachment for the server the volume is already attached to (a live migration's).
      const again = [...v.attachments].some((x) => this.attachments.get(x)?.instance === instance);
      if (v.status !== "available" && !(v.multiattach && v.status === "in-use") && !again)
        return err(
          400,
          `Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is ${v.status}.`,
        );
      const a: FakeAtt = {
        id: randomUUID(),
        volumeId: v.id,
        instance,
        status: "reserved",
      };
      this.attachments.set(a.id, a);
      v.attachments.add(a.id);
      // As Cinder: a multiattach volume in use goes back to reserved until the new attachment completes.
      if (!again) v.status = "reserved";
      return ok(200, { attachment: this.attView(a, false) });
    }
    if (method === "GET" && (r = /^\/attachments(\/detail)?(\?.*)?$/.exec(rest))) {
      const q = new URLSearchParams(r[2]?.slice(1) ?? "");
      const rows = [...this.attachments.values()].filter(
        (a) =>
          this.volumes.get(a.volumeId)?.project === project &&
          (!q.has("volume_id") || a.volumeId === q.get("volume_id")) &&
          (!q.has("instance_id") || a.instance === q.get("instance_id")),
      );
      return ok(200, { attachments: rows.map((a) => this.attView(a, !!r![1])) });
    }
    if ((r = /^\/attachments\/([^/]+)(\/action)?$/.exec(rest))) {
      const a = this.attachments.get(decodeURIComponent(r[1]));
      if (!a) return err(404, `Attachment ${r[1]} could not be found.`);
      const v = this.volumes.get(a.volumeId)!;
      if (r[2] && method === "POST" && "os-complete" in body) {
        a.status = "attached";
        v.status = "in-use";
        return ok(204, undefined);
      }
      if (!r[2] && method === "PUT") {
        a.connector = body.attachment?.connector;
        if (!a.connector) return err(400, "Invalid input received: connector is required");
        if (a.status !== "attached") a.status = "attaching";
        if (v.status === "reserved") v.status = "attaching";
        return ok(200, { attachment: this.attView(a, true) });
      }
      if (!r[2] && method === "DELETE") {
        this.attachments.delete(a.id);
        v.attachments.delete(a.id);
        if (v.attachments.size === 0) v.status = "available";
        else if ([...v.attachments].some((x) => this.attachments.get(x)?.status === "attached"))
          v.status = "in-use";
        return ok(200, { attachments: [] });
      }
    }
    return err(404, "The resource could not be found.");
  }
}

function ok(status: number, body: unknown): ClientResponse {
  return { status, headers: { "content-type": "application/json" }, body };
}

function err(status: number, message: string): ClientResponse {
  const key = status === 404 ? "itemNotFound" : status === 400 ? "badRequest" : "computeFault";
  return ok(status, { [key]: { code: status, message } });
}
