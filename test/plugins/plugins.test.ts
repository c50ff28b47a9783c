// Server plugins (docs/plugins.md): the example cost plugin loaded in process (its routes answer through the
// compute API's framework, their schemas and policy rules enforced, its store kept, its panel listed and served),
// and broken plugins refused at start-up with an error naming the plugin and the fault.
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startCloud } from "../../src/cloud/start.js";
import { loadConfig } from "../../src/shared/config.js";
import { createLogger } from "../../src/shared/log.js";
import { PolicyEnforcer } from "../../src/shared/policy/index.js";
import { personaPolicies } from "../../src/shared/policy/personas.js";
import { loadPlugins } from "../../src/plugins/load.js";
import { mountPlugins } from "../../src/plugins/mount.js";
import type { ServiceApi } from "../../src/shared/http/service.js";
import { bootCompute, type ComputeCloud } from "../compute/api/helpers.js";
import { COST_SETTINGS, WITH_COST } from "./cost.js";

describe("the cost plugin, loaded in process", () => {
  let c: ComputeCloud;
  before(async () => {
    c = await bootCompute(WITH_COST);
  });
  after(async () => {
    await c?.close();
  });

  test("GET /os-cost prices the project's servers from their flavors", async () => {
    const empty = await c.req("GET", "/v2.1/os-cost", { token: c.demo });
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body.cost.servers, []);
    assert.equal(empty.body.cost.hourly, 0);
    assert.equal(empty.body.cost.project_id, await c.t.projectId("demo"));
    const a = await c.createServer(c.demo, { name: "tiny", flavorRef: "1" });
    const b = await c.createServer(c.demo, { name: "small", flavorRef: "2" });
    // The admin's own project's servers are not the demo project's cost.
    await c.createServer(c.admin, { name: "admins", flavorRef: "2" });
    const r = await c.req("GET", "/v2.1/os-cost", { token: c.demo });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.cost.currency, "EUR");
    assert.equal(r.body.cost.hourly, 8.75);
    assert.equal(r.body.cost.monthly, 6387.5);
    const byId = new Map(r.body.cost.servers.map((s: any) => [s.id, s]));
    assert.deepEqual(byId.get(a), { id: a, name: "tiny", flavor: "m1.tiny", hourly: 1.25 });
    assert.deepEqual(byId.get(b), { id: b, name: "small", flavor: "m1.small", hourly: 7.5 });
    assert.equal(byId.size, 2);
    // The compute service's own headers and request id come with a plugin route's answers.
    assert.ok(r.headers["x-compute-request-id"]);
    const brief = await c.req("GET", "/v2.1/os-cost?detail=false", { token: c.demo });
    assert.equal(brief.body.cost.servers, undefined);
    assert.equal(brief.body.cost.hourly, 8.75);
  });

  test("schemas are enforced: a closed body, typed query parameters", async () => {
    const extra = await c.req("PUT", "/v2.1/os-cost/rates", {
      token: c.admin,
      body: { rates: { ...COST_SETTINGS.rates, gpu_hour: 3 } },
    });
    assert.equal(extra.status, 400, extra.text);
    assert.match(extra.body.badRequest.message, /gpu_hour/);
    const negative = await c.req("PUT", "/v2.1/os-cost/rates", {
      token: c.admin,
      body: { rates: { ...COST_SETTINGS.rates, vcpu_hour: -1 } },
    });
    assert.equal(negative.status, 400, negative.text);
    const query = await c.req("GET", "/v2.1/os-cost?detail=maybe", { token: c.demo });
    assert.equal(query.status, 400, query.text);
    const unknown = await c.req("GET", "/v2.1/os-cost?colour=red", { token: c.demo });
    assert.equal(unknown.status, 400, unknown.text);
  });

  test("policy is enforced and listed; the store keeps the admin's rate card", async () => {
    assert.equal((await c.req("GET", "/v2.1/os-cost")).status, 401);
    const denied = await c.req("PUT", "/v2.1/os-cost/rates", {
      token: c.demo,
      body: { rates: { vcpu_hour: 0, ram_gb_hour: 0, disk_gb_hour: 0 } },
    });
    assert.equal(denied.status, 403, denied.text);
    assert.match(denied.body.forbidden.message, /cost:rates:update/);
    const early = await c.req("PUT", "/v2.1/os-cost/rates", { token: c.demo, body: { rates: {} } });
    assert.equal(early.status, 403, "refused before the body is validated: nothing learnt of the schema");
    const rates = { vcpu_hour: 1, ram_gb_hour: 0, disk_gb_hour: 0 };
    const put = await c.req("PUT", "/v2.1/os-cost/rates", { token: c.admin, body: { rates } });
    assert.equal(put.status, 200, put.text);
    const shown = await c.req("GET", "/v2.1/os-cost/rates", { token: c.demo });
    assert.deepEqual(shown.body, { rates, currency: "EUR" });
    const r = await c.req("GET", "/v2.1/os-cost", { token: c.demo });
    assert.equal(r.body.cost.hourly, 2, "two 1-vCPU servers at 1 an hour");
    const names = c.t.cloud.policy.listRules().map((x) => x.name);
    for (const n of ["cost:show", "cost:rates:show", "cost:rates:update"]) assert.ok(names.includes(n), n);
    // A member of another project sees that project's cost, not the demo project's.
    const outsider = await c.t.createUser("cost-outsider", "secret-pass-1");
    const project = await c.t.createProject("cost-elsewhere");
    const member = await c.t.roleId("member");
    await c.t.req("PUT", `/v3/projects/${project.id}/users/${outsider.id}/roles/${member}`, {
      token: c.admin,
    });
    const tok = await c.t.token("cost-outsider", "secret-pass-1", "cost-elsewhere");
    const other = await c.req("GET", "/v2.1/os-cost", { token: tok });
    assert.equal(other.status, 200, "a member of another project sees that project's cost");
    assert.equal(other.body.cost.project_id, project.id);
    assert.deepEqual(other.body.cost.servers, []);
  });

  test("the panel is listed and its module served; nothing outside the plugin's dashboard folder is", async () => {
    const list = await c.t.cloud.app.inject({ url: "/plugins/panels" });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(JSON.parse(list.payload).panels, [
      {
        plugin: "cost",
        id: "cost",
        title: "Cost",
        path: "/project/plugins/cost/cost",
        module: "/plugins/cost/dashboard/panel.js",
      },
    ]);
    const mod = await c.t.cloud.app.inject({ url: "/plugins/cost/dashboard/panel.js" });
    assert.equal(mod.statusCode, 200);
    assert.match(String(mod.headers["content-type"]), /^text\/javascript/);
    assert.match(mod.payload, /export function mount/);
    for (const url of [
      "/plugins/cost/dashboard/..%2Fserver.js",
      "/plugins/cost/server.js",
      "/plugins/other/dashboard/panel.js",
      "/plugins/cost/dashboard/missing.js",
    ])
      assert.equal((await c.t.cloud.app.inject({ url })).statusCode, 404, url);
  });
});

describe("broken plugins", () => {
  const root = mkdtempSync(join(tmpdir(), "stratus-plugins-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const log = createLogger("silent");
  let n = 0;

  /** A plugin folder with this manifest (merged over a valid one) and server module. */
  const plugin = (manifest: Record<string, unknown>, server: string): string => {
    const dir = join(root, `p${++n}`);
    mkdirSync(dir);
    writeFileSync(
      join(dir, "plugin.json"),
      JSON.stringify({ name: "demo-plugin", version: "1", service: "compute", ...manifest }),
    );
    writeFileSync(join(dir, "server.js"), server);
    return dir;
  };
  const route = (over: string) =>
    `export function routes() { return [{ method: "GET", path: "/v2.1/os-x", policy: { name: "demo-plugin:x", check: "", description: "X." }, handler: () => ({}), ${over} }]; }`;
  const load = (dir: string, settings: Record<string, unknown> = {}) =>
    loadPlugins(
      loadConfig({ dataDir: join(root, "data"), plugins: { dir: "", paths: [dir], settings } } as any, {}),
      {
        db: () => {
          throw new Error("no database in this test");
        },
        log,
      },
    );
  const refused = async (dir: string, re: RegExp, settings?: Record<string, unknown>) => {
    await assert.rejects(load(dir, settings), (e: Error) => {
      assert.match(e.message, /^plugin "(demo-plugin|\?)" \(/);
      assert.ok(e.message.includes(dir), e.message);
      assert.match(e.message, re);
      return true;
    });
  };

  test("a well-formed plugin loads", async () => {
    const [p] = await load(plugin({}, route("")));
    assert.equal(p.manifest.name, "demo-plugin");
    assert.equal(p.routes.length, 1);
  });

  test("every sub-folder of the plugin directory is a plugin; files and dot-folders are skipped", async () => {
    const dataDir = join(root, "with-dir");
    const dir = join(dataDir, "plugins");
    mkdirSync(join(dir, "one"), { recursive: true });
    mkdirSync(join(dir, ".hidden"));
    writeFileSync(join(dir, "README"), "not a plugin");
    writeFileSync(
      join(dir, "one", "plugin.json"),
      JSON.stringify({ name: "one", version: "1", service: "image" }),
    );
    writeFileSync(join(dir, "one", "server.js"), "export function routes() { return []; }");
    const cfg = loadConfig({ dataDir } as any, {});
    const loaded = await loadPlugins(cfg, { db: () => undefined as any, log });
    assert.deepEqual(
      loaded.map((p) => [p.manifest.name, p.manifest.service, p.routes.length]),
      [["one", "image", 0]],
    );
  });

  test("each fault is named", async () => {
    await refused(join(root, "nowhere"), /plugin\.json: missing/);
    await refused(plugin({ service: "dns" }, route("")), /plugin\.json: service/);
    await refused(plugin({ extra: 1 }, route("")), /plugin\.json: .*\(extra\)/);
    await refused(plugin({ server: "../escape.js" }, route("")), /plugin\.json: server/);
    await refused(plugin({}, "export function routes( {"), /server\.js could not be imported/);
    await refused(plugin({}, "export const routes = 1;"), /exports no routes\(\) function/);
    await refused(
      plugin({}, route("policy: undefined")),
      /routes\[0\] \(GET \/v2\.1\/os-x\): policy .* is required/,
    );
    await refused(
      plugin({}, route('policy: { name: "compute:x", check: "", description: "X." }')),
      /policy\.name must be "demo-plugin:"/,
    );
    await refused(
      plugin({}, route('policy: { name: "demo-plugin:x", check: "role:admin and (", description: "X." }')),
      /does not parse/,
    );
    await refused(plugin({}, route('query: { type: "nonsense" }')), /the query schema is invalid/);
    await refused(plugin({}, route('body: { type: "object" }')), /a GET route takes no body/);
    await refused(plugin({}, route('path: "/v2.1/../etc"')), /routes\[0\]\.path/);
    await refused(plugin({}, route('method: "TRACE"')), /routes\[0\]\.method/);
    await refused(plugin({}, route("handler: 1")), /handler must be a function/);
  });

  test("settings are checked against the plugin's schema", async () => {
    const dir = plugin(
      {},
      `export const settings = { type: "object", properties: { rate: { type: "number", default: 2 } }, additionalProperties: false };
       export function routes(host) { return [{ method: "GET", path: "/v2.1/os-x", policy: { name: "demo-plugin:x", check: "", description: "X." }, handler: () => host.settings }]; }`,
    );
    await refused(dir, /settings: rate must be number/, { "demo-plugin": { rate: "high" } });
    await assert.rejects(load(dir, { other: {} }), /plugins\.settings\.other: no plugin "other" is loaded/);
    const [p] = await load(dir);
    assert.deepEqual(await p.routes[0].handler({} as any), { rate: 2 });
    await refused(plugin({}, route("")), /it takes no settings/, { "demo-plugin": { rate: 1 } });
  });

  test("a route that clashes with the service's own is refused", async () => {
    const [p] = await load(plugin({}, route('path: "/v2.1/os-keypairs"')));
    const svc = {
      name: "compute",
      routes: [{ method: "GET", path: "/v2.1/os-keypairs" }],
    } as unknown as ServiceApi;
    const policy = new PolicyEnforcer(personaPolicies("secure"));
    assert.throws(
      () =>
        mountPlugins([p], [svc], policy, () => ({
          request: async () => ({ status: 500, headers: {}, body: "" }),
        })),
      /plugin "demo-plugin": GET \/v2\.1\/os-keypairs is already a route of compute/,
    );
  });

  test("stratus up refuses to start with a broken plugin, naming it", async () => {
    const dir = plugin({ name: "broken" }, "export function routes() { return [1]; }");
    const cfg = loadConfig(
      {
        dataDir: join(root, "up"),
        logLevel: "silent",
        plugins: { dir: "", paths: [dir], settings: {} },
      } as any,
      {},
    );
    await assert.rejects(
      startCloud(cfg, { listen: false }),
      /^Error: plugin "broken" \(.*\): routes\[0\] is not an object/,
    );
  });
});
