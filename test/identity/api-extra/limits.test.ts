// Unified limits: /v3/registered_limits, /v3/limits and /v3/limits/model.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "./helpers.js";

let env: Env;
let computeId: string;
let volumeId: string;
let demoProject: string;
let adminProject: string;
before(async () => {
  env = await boot();
  const services = (await env.req("GET", "/v3/services", env.admin)).body.services;
  computeId = services.find((s: any) => s.type === "compute").id;
  // Block storage is not running (not in the catalog): register a service record of its type for the limits.
  volumeId =
    services.find((s: any) => s.type === "block-storage")?.id ??
    (
      await env.req("POST", "/v3/services", env.admin, {
        service: { type: "block-storage", name: "cinder" },
      })
    ).body.service.id;
  demoProject = (await env.req("GET", "/v3/auth/projects", env.demo)).body.projects[0].id;
  adminProject = (await env.req("GET", "/v3/auth/projects", env.admin)).body.projects.find(
    (p: any) => p.name === "admin",
  ).id;
});
after(() => env.close());

describe("limit model", () => {
  test("GET /v3/limits/model is flat and needs a token", async () => {
    const r = await env.req("GET", "/v3/limits/model", env.demo);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      model: {
        name: "flat",
        description: "Limit enforcement and validation does not take project hierarchy into consideration.",
      },
    });
    assert.equal((await env.req("GET", "/v3/limits/model")).status, 401);
  });
});

describe("registered limits", () => {
  test("batch create, list with filters, get, update, delete", async () => {
    const { req, admin, demo } = env;
    const c = await req("POST", "/v3/registered_limits", admin, {
      registered_limits: [
        { service_id: computeId, resource_name: "cores", default_limit: 10, description: "cores" },
        { service_id: computeId, region_id: "RegionOne", resource_name: "ram_mb", default_limit: 4096 },
      ],
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.equal(c.body.registered_limits.length, 2);
    const [cores, ram] = c.body.registered_limits;
    assert.equal(cores.region_id, null);
    assert.equal(cores.default_limit, 10);
    assert.equal(cores.description, "cores");
    assert.equal(ram.region_id, "RegionOne");
    assert.equal(ram.description, null);
    assert.ok(cores.links.self.endsWith(`/identity/v3/registered_limits/${cores.id}`));

    const list = await req("GET", "/v3/registered_limits", demo);
    assert.equal(list.status, 200, "anyone with a token may read registered limits");
    assert.ok(list.body.registered_limits.length >= 2);
    const byName = await req("GET", "/v3/registered_limits?resource_name=ram_mb", admin);
    assert.deepEqual(
      byName.body.registered_limits.map((r: any) => r.id),
      [ram.id],
    );
    const byRegion = await req(
      "GET",
      `/v3/registered_limits?service_id=${computeId}&region_id=RegionOne`,
      admin,
    );
    assert.deepEqual(
      byRegion.body.registered_limits.map((r: any) => r.id),
      [ram.id],
    );

    assert.equal(
      (await req("GET", `/v3/registered_limits/${cores.id}`, demo)).body.registered_limit.id,
      cores.id,
    );
    const upd = await req("PATCH", `/v3/registered_limits/${cores.id}`, admin, {
      registered_limit: { default_limit: 20, description: null },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.registered_limit.default_limit, 20);
    assert.equal(upd.body.registered_limit.description, null);
    assert.equal((await req("DELETE", `/v3/registered_limits/${ram.id}`, admin)).status, 204);
    assert.equal((await req("GET", `/v3/registered_limits/${ram.id}`, admin)).status, 404);
  });

  test("errors: 409 duplicate (also within one request), 400 bad body or unknown service/region, 403 demo, 404", async () => {
    const { req, admin, demo } = env;
    const one = { service_id: volumeId, resource_name: "volumes", default_limit: 5 };
    assert.equal(
      (await req("POST", "/v3/registered_limits", admin, { registered_limits: [one] })).status,
      201,
    );
    const dup = await req("POST", "/v3/registered_limits", admin, { registered_limits: [one] });
    assert.equal(dup.status, 409);
    assert.ok(isKeystoneError(dup.body, 409));
    const twice = { service_id: volumeId, resource_name: "snapshots", default_limit: 5 };
    assert.equal(
      (await req("POST", "/v3/registered_limits", admin, { registered_limits: [twice, twice] })).status,
      409,
    );
    assert.equal(
      (await req("GET", "/v3/registered_limits?resource_name=snapshots", admin)).body.registered_limits
        .length,
      0,
      "all or nothing",
    );
    // Same resource in another region is fine.
    assert.equal(
      (
        await req("POST", "/v3/registered_limits", admin, {
          registered_limits: [{ ...one, region_id: "RegionOne" }],
        })
      ).status,
      201,
    );

    const post = (body: unknown) => req("POST", "/v3/registered_limits", admin, body);
    assert.equal((await post({ registered_limits: [] })).status, 400);
    assert.equal((await post({ registered_limits: [{ ...one, extra: 1 }] })).status, 400, "closed schema");
    assert.equal(
      (await post({ registered_limits: [{ service_id: volumeId, resource_name: "x" }] })).status,
      400,
    );
    assert.equal((await post({ registered_limits: [{ ...one, default_limit: -2 }] })).status, 400);
    assert.equal((await post({ registered_limits: [{ ...one, default_limit: "5" }] })).status, 400);
    assert.equal((await post({ registered_limits: [{ ...one, service_id: "nope" }] })).status, 400);
    assert.equal(
      (await post({ registered_limits: [{ ...one, resource_name: "y", region_id: "nope" }] })).status,
      400,
    );
    assert.equal((await post({ registered_limit: one })).status, 400);
    assert.equal(
      (
        await req("POST", "/v3/registered_limits", demo, {
          registered_limits: [{ ...one, resource_name: "z" }],
        })
      ).status,
      403,
    );
    assert.equal(
      (await req("PATCH", "/v3/registered_limits/nope", admin, { registered_limit: { default_limit: 1 } }))
        .status,
      404,
    );
    assert.equal((await req("DELETE", "/v3/registered_limits/nope", admin)).status, 404);
    assert.equal((await req("GET", "/v3/registered_limits/nope", admin)).status, 404);
  });
});

describe("limits", () => {
  test("project and domain limits: create, list, get, update, delete; registered limit locked while referenced", async () => {
    const { req, admin } = env;
    const reg = (
      await req("POST", "/v3/registered_limits", admin, {
        registered_limits: [{ service_id: computeId, resource_name: "instances", default_limit: 10 }],
      })
    ).body.registered_limits[0];
    const c = await req("POST", "/v3/limits", admin, {
      limits: [
        {
          project_id: demoProject,
          service_id: computeId,
          resource_name: "instances",
          resource_limit: 5,
          description: "demo instances",
        },
        { domain_id: "default", service_id: computeId, resource_name: "instances", resource_limit: 50 },
      ],
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const [pl, dl] = c.body.limits;
    assert.equal(pl.project_id, demoProject);
    assert.equal(pl.domain_id, null);
    assert.equal(pl.resource_limit, 5);
    assert.equal(pl.region_id, null);
    assert.equal(pl.service_id, computeId);
    assert.equal(dl.domain_id, "default");
    assert.equal(dl.project_id, null);
    assert.ok(pl.links.self.endsWith(`/identity/v3/limits/${pl.id}`));

    const list = await req("GET", "/v3/limits", admin);
    assert.ok(
      list.body.limits.some((l: any) => l.id === pl.id) && list.body.limits.some((l: any) => l.id === dl.id),
    );
    const byProject = await req("GET", `/v3/limits?project_id=${demoProject}`, admin);
    assert.deepEqual(
      byProject.body.limits.map((l: any) => l.id),
      [pl.id],
    );
    const byDomain = await req("GET", "/v3/limits?domain_id=default", admin);
    assert.deepEqual(
      byDomain.body.limits.map((l: any) => l.id),
      [dl.id],
    );

    const upd = await req("PATCH", `/v3/limits/${pl.id}`, admin, { limit: { resource_limit: 7 } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.limit.resource_limit, 7);
    assert.equal(upd.body.limit.description, "demo instances");
    assert.equal((await req("GET", `/v3/limits/${pl.id}`, admin)).body.limit.resource_limit, 7);

    const locked = await req("PATCH", `/v3/registered_limits/${reg.id}`, admin, {
      registered_limit: { default_limit: 11 },
    });
    assert.equal(locked.status, 403);
    assert.ok(isKeystoneError(locked.body, 403));
    assert.equal((await req("DELETE", `/v3/registered_limits/${reg.id}`, admin)).status, 403);

    assert.equal((await req("DELETE", `/v3/limits/${pl.id}`, admin)).status, 204);
    assert.equal((await req("DELETE", `/v3/limits/${dl.id}`, admin)).status, 204);
    assert.equal((await req("GET", `/v3/limits/${pl.id}`, admin)).status, 404);
    assert.equal((await req("DELETE", `/v3/registered_limits/${reg.id}`, admin)).status, 204);
  });

  test("visibility: project members see their project's limits only", async () => {
    const { req, admin, demo } = env;
    await req("POST", "/v3/registered_limits", admin, {
      registered_limits: [{ service_id: computeId, resource_name: "key_pairs", default_limit: 10 }],
    });
    const made = await req("POST", "/v3/limits", admin, {
      limits: [
        { project_id: demoProject, service_id: computeId, resource_name: "key_pairs", resource_limit: 2 },
        { project_id: adminProject, service_id: computeId, resource_name: "key_pairs", resource_limit: 100 },
      ],
    });
    assert.equal(made.status, 201);
    const [demoLimit, adminLimit] = made.body.limits;
    const mine = await req("GET", "/v3/limits", demo);
    assert.equal(mine.status, 200);
    assert.deepEqual(
      mine.body.limits.map((l: any) => l.id),
      [demoLimit.id],
    );
    assert.equal((await req("GET", `/v3/limits?project_id=${adminProject}`, demo)).body.limits.length, 0);
    assert.equal((await req("GET", `/v3/limits/${demoLimit.id}`, demo)).status, 200);
    assert.equal((await req("GET", `/v3/limits/${adminLimit.id}`, demo)).status, 403);
    assert.equal(
      (await req("PATCH", `/v3/limits/${demoLimit.id}`, demo, { limit: { resource_limit: 1000 } })).status,
      403,
    );
    assert.equal((await req("DELETE", `/v3/limits/${demoLimit.id}`, demo)).status, 403);
    assert.equal((await req("GET", "/v3/limits")).status, 401);
  });

  test("errors: 403 without a registered limit, 409 duplicate, 400 bad body or owner, 404", async () => {
    const { req, admin, demo } = env;
    await req("POST", "/v3/registered_limits", admin, {
      registered_limits: [{ service_id: volumeId, resource_name: "gigabytes", default_limit: 1000 }],
    });
    const ok = {
      project_id: demoProject,
      service_id: volumeId,
      resource_name: "gigabytes",
      resource_limit: 100,
    };
    const post = (body: unknown, tok = admin) => req("POST", "/v3/limits", tok, body);
    const noReg = await post({ limits: [{ ...ok, resource_name: "backups" }] });
    assert.equal(noReg.status, 403);
    assert.ok(isKeystoneError(noReg.body, 403));
    assert.equal(
      (await post({ limits: [{ ...ok, region_id: "RegionOne" }] })).status,
      403,
      "registered limit is region-less",
    );
    assert.equal((await post({ limits: [ok] })).status, 201);
    const dup = await post({ limits: [ok] });
    assert.equal(dup.status, 409);
    assert.ok(isKeystoneError(dup.body, 409));
    assert.equal(
      (
        await post({
          limits: [
            { ...ok, project_id: adminProject },
            { ...ok, project_id: adminProject },
          ],
        })
      ).status,
      409,
    );
    assert.equal(
      (await req("GET", `/v3/limits?project_id=${adminProject}&resource_name=gigabytes`, admin)).body.limits
        .length,
      0,
      "all or nothing",
    );

    assert.equal((await post({ limits: [] })).status, 400);
    assert.equal(
      (await post({ limits: [{ service_id: volumeId, resource_name: "gigabytes", resource_limit: 1 }] }))
        .status,
      400,
      "owner required",
    );
    assert.equal((await post({ limits: [{ ...ok, domain_id: "default" }] })).status, 400, "not both owners");
    assert.equal((await post({ limits: [{ ...ok, color: "red" }] })).status, 400, "closed schema");
    assert.equal((await post({ limits: [{ ...ok, project_id: "no-such-project" }] })).status, 400);
    assert.equal(
      (await post({ limits: [{ ...ok, project_id: undefined, domain_id: "no-such-domain" }] })).status,
      400,
    );
    assert.equal((await post({ limits: [{ ...ok, resource_limit: 1.5 }] })).status, 400);
    assert.equal((await post({ limits: [{ ...ok, project_id: adminProject }] }, demo)).status, 403);
    assert.equal(
      (await req("PATCH", "/v3/limits/nope", admin, { limit: { resource_limit: 1 } })).status,
      404,
    );
    assert.equal(
      (await req("PATCH", "/v3/limits/nope", admin, { limit: { resource_name: "x" } })).status,
      400,
    );
    assert.equal((await req("GET", "/v3/limits/nope", admin)).status, 404);
  });

  test("a project that is a domain is stored as a domain limit", async () => {
    const { req, admin } = env;
    await req("POST", "/v3/registered_limits", admin, {
      registered_limits: [{ service_id: computeId, resource_name: "server_groups", default_limit: 10 }],
    });
    const r = await req("POST", "/v3/limits", admin, {
      limits: [
        { project_id: "default", service_id: computeId, resource_name: "server_groups", resource_limit: 3 },
      ],
    });
    assert.equal(r.status, 201);
    assert.equal(r.body.limits[0].domain_id, "default");
    assert.equal(r.body.limits[0].project_id, null);
  });
});
