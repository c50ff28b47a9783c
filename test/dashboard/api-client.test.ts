// The dashboard's API client (src/dashboard/web/api) against an in-process cloud: login (unscoped, the project
// list, then project-scoped with the catalog), catalog paths, the pinned compute microversion, each service's own
// error message, project switching, logout revoking the token, and the generated clouds.yaml/openrc; the image
// property patch and the temporary URL signature (WebCrypto) as pure functions.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { bootCloud, type TestCloud } from "../helpers/cloud.js";
import {
  Api,
  ApiError,
  cloudsYaml,
  endpointPath,
  errorMessage,
  hmacSha256Hex,
  login,
  logout,
  openrc,
  propertyPatch,
  resources,
  scopeToProject,
  type Transport,
} from "../../src/dashboard/web/api/index.js";

describe("dashboard API client", () => {
  let t: TestCloud;
  let transport: Transport;
  const seen: Array<{ url: string; headers: Record<string, string> }> = [];

  before(async () => {
    t = await bootCloud();
    // A fetch over the cloud's inject: the client as the browser runs it, same origin, relative paths.
    transport = {
      baseUrl: "",
      fetch: (async (input: string, init: RequestInit = {}) => {
        const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
        seen.push({ url: input, headers });
        const r = await t.cloud.app.inject({
          method: (init.method ?? "GET") as any,
          url: input,
          headers,
          ...(init.body !== undefined ? { payload: init.body as string } : {}),
        });
        return new Response(r.statusCode === 204 ? null : r.rawPayload, {
          status: r.statusCode,
          headers: Object.entries(r.headers).map(([k, v]) => [k, String(v)]) as [string, string][],
        });
      }) as typeof fetch,
    };
  });
  after(async () => {
    await t?.close();
  });

  test("login scopes to the chosen project and finds the services in the catalog", async () => {
    const { session, projects, unscoped } = await login(
      transport,
      "Default",
      "demo",
      t.cloud.demoPassword,
      "demo",
    );
    assert.ok(unscoped);
    assert.ok(projects.some((p) => p.name === "demo"));
    assert.equal(session.project.name, "demo");
    assert.equal(session.user.name, "demo");
    assert.ok(Date.parse(session.expiresAt) > Date.now());
    const api = new Api(session, transport);
    assert.equal(api.endpoint("compute"), "/compute/v2.1");
    assert.equal(api.endpoint("network"), "/networking");
    assert.throws(() => api.endpoint("no-such-service"), ApiError);
    const r = resources(api);
    assert.ok((await r.flavors()).length > 0);
    assert.deepEqual(await r.servers(), []);
    const call = seen.findLast((c) => c.url.startsWith("/compute/v2.1/servers"));
    assert.equal(call?.headers["openstack-api-version"], "compute 2.79");
    assert.equal(call?.headers["x-auth-token"], session.token);
    assert.ok((await r.networks()).some((n) => n.name === "private"));
  });

  test("refusals carry the service's own message, and 401 calls onUnauthorized", async () => {
    const { session } = await login(transport, "Default", "demo", t.cloud.demoPassword);
    let unauthorized = 0;
    const api = new Api(session, transport, () => unauthorized++);
    const r = resources(api);
    // Nova: {"badRequest": {"message"}} / {"itemNotFound": {"message"}}.
    await assert.rejects(
      r.server("00000000-0000-0000-0000-000000000000"),
      (e: ApiError) => e.status === 404 && /could not be found/i.test(e.message),
    );
    // Neutron: {"NeutronError": {"message"}}.
    await assert.rejects(
      r.addRule("00000000-0000-0000-0000-000000000000", { direction: "ingress" }),
      (e: ApiError) => e.status === 404 && /security group/i.test(e.message),
    );
    // Keystone: {"error": {"message"}}.
    await assert.rejects(
      login(transport, "Default", "demo", "wrong"),
      (e: ApiError) => e.status === 401 && /authenticat/i.test(e.message),
    );
    // Glance.
    await assert.rejects(
      r.deleteImage("00000000-0000-0000-0000-000000000000"),
      (e: ApiError) => e.status === 404 && e.message.length > 0,
    );
    assert.equal(unauthorized, 0);
    const bad = new Api({ ...session, token: "not-a-token" }, transport, () => unauthorized++);
    await assert.rejects(resources(bad).servers(), (e: ApiError) => e.status === 401);
    assert.equal(unauthorized, 1);
  });

  test("the error parser reads every service's shape", () => {
    assert.equal(errorMessage({ badRequest: { message: "nova says", code: 400 } }), "nova says");
    assert.equal(
      errorMessage({ error: { message: "keystone says", code: 401, title: "Unauthorized" } }),
      "keystone says",
    );
    assert.equal(
      errorMessage({ NeutronError: { message: "neutron says", type: "X", detail: "" } }),
      "neutron says",
    );
    assert.equal(
      errorMessage({ message: "glance says", code: "404 Not Found", title: "Not Found" }),
      "glance says",
    );
    assert.equal(errorMessage({ errors: [{ detail: "placement says" }] }), "placement says");
    assert.equal(errorMessage("text"), null);
    assert.equal(endpointPath("http://10.0.0.1:8080/compute/v2.1/"), "/compute/v2.1");
  });

  test("switching project rescopes the unscoped token; logout revokes", async () => {
    const admin = await login(transport, "Default", "admin", t.cloud.adminPassword, "admin");
    const demo = admin.projects.find((p) => p.name === "demo");
    if (demo) {
      const s2 = await scopeToProject(transport, admin.unscoped, demo.id);
      assert.equal(s2.project.name, "demo");
    }
    await logout(transport, admin.session.token);
    const r = await t.req("GET", "/v3/auth/tokens", {
      token: await t.adminToken(),
      headers: { "x-subject-token": admin.session.token },
    });
    assert.equal(r.status, 404);
  });

  test("clouds.yaml and openrc name the user and project, without a password", async () => {
    const { session } = await login(transport, "Default", "demo", t.cloud.demoPassword);
    const y = cloudsYaml(session, "http://127.0.0.1:8080/identity/v3", "RegionOne");
    assert.match(y, /username: "demo"/);
    assert.match(y, /project_name: "demo"/);
    assert.doesNotMatch(y, new RegExp(t.cloud.demoPassword));
    const rc = openrc(session, "http://127.0.0.1:8080/identity/v3", "RegionOne");
    assert.match(rc, /export OS_PROJECT_NAME='demo'/);
    assert.match(rc, /read -r -s -p/);
  });

  test("an image's property edits become add, replace and remove operations", () => {
    const before = new Map([
      ["os_distro", "cirros"],
      ["hw_disk_bus", "virtio"],
      ["keep", "same"],
    ]);
    const after = new Map([
      ["os_distro", "debian"],
      ["keep", "same"],
      ["os_version", "12"],
    ]);
    assert.deepEqual(propertyPatch(before, after), [
      { op: "replace", path: "/os_distro", value: "debian" },
      { op: "add", path: "/os_version", value: "12" },
      { op: "remove", path: "/hw_disk_bus" },
    ]);
    assert.deepEqual(propertyPatch(before, before), []);
  });

  test("the temporary URL signature is Swift's HMAC-SHA256 in hex", async () => {
    const body = "GET\n1700000000\n/object-store/v1/AUTH_x/c/o ü";
    assert.equal(
      await hmacSha256Hex("k\u00e9y", body),
      createHmac("sha256", "k\u00e9y").update(body).digest("hex"),
    );
  });
});
