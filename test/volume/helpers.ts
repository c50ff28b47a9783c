// Boots a cloud with the fake volume backend and sends requests to /volume/v3/{project} with an optional
// microversion; helpers to create volumes and wait for their status.
import { bootCloud, type Res, type TestCloud } from "../helpers/cloud.js";
import { until } from "../helpers/wait.js";
import type { FakeBackend, FakeTransport } from "../../src/volume/drivers/fake.js";

/** A booted cloud with block storage helpers. */
export interface VolumeCloud {
  t: TestCloud;
  admin: string;
  demo: string;
  adminProject: string;
  demoProject: string;
  /** A request below /volume/v3/{project} (project: the token's unless given). */
  req(
    method: string,
    path: string,
    o?: { token?: string; body?: unknown; mv?: string; project?: string },
  ): Promise<Res>;
  /** Create a volume (202) and return its id. */
  create(token: string, volume?: Record<string, unknown>, mv?: string): Promise<string>;
  /** Poll until the volume's status is `status` (fails on error unless that is awaited). */
  waitStatus(token: string, id: string, status: string): Promise<any>;
  /** Poll until the volume is gone (404). */
  waitGone(token: string, id: string): Promise<void>;
  /** Upload an active raw image with `data` (private to the token's project, or public) and return its id. */
  image(token: string, data: Buffer, visibility?: string): Promise<string>;
  backend(): FakeBackend;
  transport(p: "iscsi" | "nbd"): FakeTransport;
  close(): Promise<void>;
}

/** Boot a cloud (fake compute and volume backends). */
export async function bootVolume(config: Record<string, unknown> = {}): Promise<VolumeCloud> {
  const t = await bootCloud({ config: { compute: { driver: "fake", hostName: "host1" }, ...config } });
  const admin = await t.adminToken();
  const demo = await t.demoToken();
  const adminProject = await t.projectId("admin");
  const demoProject = await t.projectId("demo");
  const projectOf = new Map([
    [admin, adminProject],
    [demo, demoProject],
  ]);
  const req: VolumeCloud["req"] = async (method, path, o = {}) => {
    const token = o.token ?? admin;
    const project = o.project ?? projectOf.get(token) ?? adminProject;
    const headers: Record<string, string> = { accept: "application/json", "x-auth-token": token };
    if (o.mv) headers["openstack-api-version"] = `volume ${o.mv}`;
    if (o.body !== undefined) headers["content-type"] = "application/json";
    const r = await t.cloud.app.inject({
      method: method as any,
      url: path.startsWith("/volume/") ? path : `/volume/v3/${project}${path}`,
      headers,
      ...(o.body !== undefined ? { payload: JSON.stringify(o.body) } : {}),
    });
    let body: any;
    try {
      body = r.payload ? JSON.parse(r.payload) : undefined;
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, text: r.payload };
  };
  const waitStatus = async (token: string, id: string, status: string) =>
    until(`volume ${id} ${status}`, async () => {
      const r = await req("GET", `/volumes/${id}`, { token });
      if (r.status !== 200) throw new Error(`GET volume ${id}: ${r.status} ${r.text}`);
      const s = r.body.volume.status;
      if (s === "error" && status !== "error") throw new Error(`volume ${id} went to error`);
      return s === status ? r.body.volume : null;
    });
  return {
    t,
    admin,
    demo,
    adminProject,
    demoProject,
    req,
    async create(token, volume = {}, mv) {
      const r = await req("POST", "/volumes", { token, body: { volume: { size: 1, ...volume } }, mv });
      if (r.status !== 202) throw new Error(`create volume: ${r.status} ${r.text}`);
      return r.body.volume.id as string;
    },
    waitStatus,
    async waitGone(token, id) {
      await until(
        `volume ${id} gone`,
        async () => (await req("GET", `/volumes/${id}`, { token })).status === 404,
      );
    },
    async image(token, data, visibility = "private") {
      const r = await t.cloud.app.inject({
        method: "POST",
        url: "/image/v2/images",
        headers: { "x-auth-token": token, "content-type": "application/json" },
        payload: JSON.stringify({
          name: "vol-img",
          disk_format: "raw",
          container_format: "bare",
          visibility,
        }),
      });
      if (r.statusCode !== 201) throw new Error(`image create: ${r.statusCode} ${r.payload}`);
      const id = JSON.parse(r.payload).id as string;
      const up = await t.cloud.app.inject({
        method: "PUT",
        url: `/image/v2/images/${id}/file`,
        headers: { "x-auth-token": token, "content-type": "application/octet-stream" },
        payload: data,
      });
      if (up.statusCode !== 204) throw new Error(`image upload: ${up.statusCode} ${up.payload}`);
      return id;
    },
    backend: () => t.cloud.volume.localAgent!.backend as FakeBackend,
    transport: (p) => (t.cloud.volume.localAgent as any).o.transports.get(p) as FakeTransport,
    close: () => t.close(),
  };
}
