// Nova API: version discovery, microversion negotiation, flavors (seed, CRUD, filters, pagination, extra specs,
// access lists) and policy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bootCompute, type ComputeCloud } from "./helpers.js";

let c: ComputeCloud;
before(async () => {
  c = await bootCompute();
});
after(() => c.close());

describe("versions and microversions", () => {
  test("GET /compute lists v2.0 and v2.1; GET /v2.1 shows one", async () => {
    const r = await c.req("GET", "");
    assert.equal(r.status, 200);
    const [v20, v21] = r.body.versions;
    assert.equal(v20.id, "v2.0");
    assert.equal(v20.status, "SUPPORTED");
    assert.deepEqual([v21.id, v21.status, v21.version, v21.min_version], ["v2.1", "CURRENT", "2.93", "2.1"]);
    const one = await c.req("GET", "/v2.1");
    assert.equal(one.status, 200);
    assert.equal(one.body.version.version, "2.93");
  });

  test("headers echo the version; out of range is 406; request id headers", async () => {
    const r = await c.req("GET", "/v2.1/flavors", { token: c.demo, mv: "2.55" });
    assert.equal(r.status, 200);
    assert.equal(r.headers["openstack-api-version"], "compute 2.55");
    assert.equal(r.headers["x-openstack-nova-api-version"], "2.55");
    assert.ok(r.headers["x-compute-request-id"]);
    const latest = await c.req("GET", "/v2.1/flavors", { token: c.demo, mv: "latest" });
    assert.equal(latest.headers["openstack-api-version"], "compute 2.93");
    const bad = await c.req("GET", "/v2.1/flavors", { token: c.demo, mv: "2.94" });
    assert.equal(bad.status, 406);
    assert.equal(bad.body.computeFault.code, 406);
    const none = await c.req("GET", "/v2.1/flavors", { token: c.demo });
    assert.equal(none.headers["openstack-api-version"], "compute 2.1");
  });
});

describe("flavors", () => {
  test("seeded devstack flavors", async () => {
    const r = await c.req("GET", "/v2.1/flavors/detail", { token: c.demo });
    assert.equal(r.status, 200);
    const by = Object.fromEntries(r.body.flavors.map((f: any) => [f.name, f]));
    assert.deepEqual(
      [by["m1.nano"].id, by["m1.nano"].ram, by["m1.nano"].vcpus, by["m1.nano"].disk],
      ["42", 128, 1, 1],
    );
    assert.deepEqual([by["m1.xlarge"].id, by["m1.xlarge"].ram, by["m1.xlarge"].disk], ["5", 16384, 160]);
    assert.equal(by["m1.tiny"].swap, "");
    assert.equal(by["m1.tiny"]["os-flavor-access:is_public"], true);
    const v275 = await c.req("GET", "/v2.1/flavors/1", { token: c.demo, mv: "2.75" });
    assert.equal(v275.body.flavor.swap, 0);
    assert.equal(v275.body.flavor.description, null);
    assert.ok(v275.body.flavor.links[0].href.endsWith("/compute/v2.1/flavors/1"));
  });

  test("filters, sorting and pagination", async () => {
    const big = await c.req("GET", "/v2.1/flavors/detail?minRam=8192", { token: c.demo });
    assert.deepEqual(big.body.flavors.map((f: any) => f.name).sort(), ["m1.large", "m1.xlarge"]);
    const disk = await c.req("GET", "/v2.1/flavors?minDisk=40&sort_key=memory_mb&sort_dir=desc", {
      token: c.demo,
    });
    assert.deepEqual(
      disk.body.flavors.map((f: any) => f.name),
      ["m1.xlarge", "m1.large", "m1.medium"],
    );
    assert.equal((await c.req("GET", "/v2.1/flavors?minRam=x", { token: c.demo })).status, 400);
    assert.equal((await c.req("GET", "/v2.1/flavors?sort_key=bogus", { token: c.demo })).status, 400);
    const p1 = await c.req("GET", "/v2.1/flavors?sort_key=memory_mb&limit=2", { token: c.demo });
    assert.deepEqual(
      p1.body.flavors.map((f: any) => f.id),
      ["42", "84"],
    );
    const next = p1.body.flavors_links[0];
    assert.equal(next.rel, "next");
    assert.match(next.href, /marker=84/);
    const p2 = await c.req("GET", "/v2.1/flavors?sort_key=memory_mb&limit=2&marker=84", { token: c.demo });
    assert.deepEqual(
      p2.body.flavors.map((f: any) => f.id),
      ["1", "2"],
    );
    assert.equal((await c.req("GET", "/v2.1/flavors?marker=nope", { token: c.demo })).status, 400);
  });

  test("create, update description, delete; duplicates and bad input", async () => {
    const body = { flavor: { name: "t.custom", id: "custom-1", ram: 1024, vcpus: 2, disk: 10, swap: 512 } };
    const r = await c.req("POST", "/v2.1/flavors", { token: c.admin, body });
    assert.equal(r.status, 200);
    assert.equal(r.body.flavor.id, "custom-1");
    assert.equal(r.body.flavor.swap, 512);
    assert.equal(
      (await c.req("POST", "/v2.1/flavors", { token: c.admin, body })).body.conflictingRequest.code,
      409,
    );
    const auto = await c.req("POST", "/v2.1/flavors", {
      token: c.admin,
      mv: "2.55",
      body: { flavor: { name: "t.auto", id: "auto", ram: "256", vcpus: 1, disk: 0, description: "hello" } },
    });
    assert.equal(auto.status, 200);
    assert.match(auto.body.flavor.id, /^[0-9a-f-]{36}$/);
    assert.equal(auto.body.flavor.description, "hello");
    for (const bad of [
      { flavor: { name: "x", ram: 0, vcpus: 1, disk: 1 } },
      { flavor: { name: "x", ram: 1, disk: 1 } },
      { flavor: { name: "x", ram: 1, vcpus: 1, disk: 1, bogus: 1 } },
      { flavor: { name: "x", ram: 1, vcpus: 1, disk: 1, description: "too early" } },
      {},
    ]) {
      const b = await c.req("POST", "/v2.1/flavors", { token: c.admin, body: bad });
      assert.equal(b.status, 400, JSON.stringify(bad));
      assert.equal(b.body.badRequest.code, 400);
    }
    assert.equal(
      (
        await c.req("PUT", "/v2.1/flavors/custom-1", {
          token: c.admin,
          body: { flavor: { description: "d" } },
        })
      ).status,
      404,
    );
    const up = await c.req("PUT", "/v2.1/flavors/custom-1", {
      token: c.admin,
      mv: "2.55",
      body: { flavor: { description: "d" } },
    });
    assert.equal(up.status, 200);
    assert.equal(up.body.flavor.description, "d");
    assert.equal((await c.req("DELETE", "/v2.1/flavors/custom-1", { token: c.admin })).status, 202);
    const gone = await c.req("GET", "/v2.1/flavors/custom-1", { token: c.admin });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.itemNotFound.code, 404);
  });

  test("demo may not create or delete flavors", async () => {
    const r = await c.req("POST", "/v2.1/flavors", {
      token: c.demo,
      body: { flavor: { name: "nope", ram: 1, vcpus: 1, disk: 1 } },
    });
    assert.equal(r.status, 403);
    assert.equal(r.body.forbidden.code, 403);
    assert.equal((await c.req("DELETE", "/v2.1/flavors/1", { token: c.demo })).status, 403);
    assert.equal((await c.req("GET", "/v2.1/flavors")).status, 401);
  });

  test("extra specs CRUD and in the body from 2.61", async () => {
    const base = "/v2.1/flavors/2/os-extra_specs";
    const set = await c.req("POST", base, {
      token: c.admin,
      body: { extra_specs: { "hw:cpu_policy": "dedicated", n: 1 } },
    });
    assert.equal(set.status, 200);
    assert.deepEqual((await c.req("GET", base, { token: c.demo })).body, {
      extra_specs: { "hw:cpu_policy": "dedicated", n: "1" },
    });
    assert.deepEqual((await c.req("GET", `${base}/n`, { token: c.demo })).body, { n: "1" });
    const put = await c.req("PUT", `${base}/n`, { token: c.admin, body: { n: "2" } });
    assert.deepEqual(put.body, { n: "2" });
    assert.equal((await c.req("PUT", `${base}/n`, { token: c.admin, body: { m: "2" } })).status, 400);
    assert.equal(
      (await c.req("POST", base, { token: c.demo, body: { extra_specs: { a: "b" } } })).status,
      403,
    );
    const f = await c.req("GET", "/v2.1/flavors/2", { token: c.demo, mv: "2.61" });
    assert.deepEqual(f.body.flavor.extra_specs, { "hw:cpu_policy": "dedicated", n: "2" });
    assert.equal(
      (await c.req("GET", "/v2.1/flavors/2", { token: c.demo, mv: "2.60" })).body.flavor.extra_specs,
      undefined,
    );
    assert.equal((await c.req("DELETE", `${base}/n`, { token: c.admin })).status, 200);
    assert.equal((await c.req("GET", `${base}/n`, { token: c.demo })).status, 404);
    assert.equal((await c.req("DELETE", `${base}/n`, { token: c.admin })).status, 404);
  });

  test("private flavors and tenant access", async () => {
    const demoProject = await c.t.projectId("demo");
    const r = await c.req("POST", "/v2.1/flavors", {
      token: c.admin,
      body: {
        flavor: {
          name: "t.private",
          id: "priv",
          ram: 64,
          vcpus: 1,
          disk: 0,
          "os-flavor-access:is_public": false,
        },
      },
    });
    assert.equal(r.status, 200);
    assert.equal((await c.req("GET", "/v2.1/flavors/priv", { token: c.demo })).status, 404);
    const list = async () =>
      (await c.req("GET", "/v2.1/flavors", { token: c.demo })).body.flavors.map((f: any) => f.id);
    assert.ok(!(await list()).includes("priv"));
    assert.deepEqual((await c.req("GET", "/v2.1/flavors/priv/os-flavor-access", { token: c.admin })).body, {
      flavor_access: [],
    });
    const add = await c.req("POST", "/v2.1/flavors/priv/action", {
      token: c.admin,
      body: { addTenantAccess: { tenant: demoProject } },
    });
    assert.equal(add.status, 200);
    assert.deepEqual(add.body.flavor_access, [{ flavor_id: "priv", tenant_id: demoProject }]);
    assert.equal(
      (
        await c.req("POST", "/v2.1/flavors/priv/action", {
          token: c.admin,
          body: { addTenantAccess: { tenant: demoProject } },
        })
      ).status,
      409,
    );
    assert.equal((await c.req("GET", "/v2.1/flavors/priv", { token: c.demo })).status, 200);
    assert.ok((await list()).includes("priv"));
    const adminPublicOnly = await c.req("GET", "/v2.1/flavors?is_public=false", { token: c.admin });
    assert.deepEqual(
      adminPublicOnly.body.flavors.map((f: any) => f.id),
      ["priv"],
    );
    assert.equal((await c.req("GET", "/v2.1/flavors?is_public=maybe", { token: c.admin })).status, 400);
    assert.equal(
      (
        await c.req("POST", "/v2.1/flavors/priv/action", {
          token: c.demo,
          body: { removeTenantAccess: { tenant: demoProject } },
        })
      ).status,
      403,
    );
    const rm = await c.req("POST", "/v2.1/flavors/priv/action", {
      token: c.admin,
      body: { removeTenantAccess: { tenant: demoProject } },
    });
    assert.deepEqual(rm.body.flavor_access, []);
    assert.equal(
      (
        await c.req("POST", "/v2.1/flavors/priv/action", {
          token: c.admin,
          body: { removeTenantAccess: { tenant: demoProject } },
        })
      ).status,
      404,
    );
    assert.equal(
      (
        await c.req("POST", "/v2.1/flavors/1/action", {
          token: c.admin,
          body: { addTenantAccess: { tenant: "x" } },
        })
      ).status,
      409,
    );
    assert.equal((await c.req("GET", "/v2.1/flavors/1/os-flavor-access", { token: c.admin })).status, 404);
  });
});
