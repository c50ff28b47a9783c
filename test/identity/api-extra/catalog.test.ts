// Regions, services and endpoints (/v3/regions, /v3/services, /v3/endpoints).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "./helpers.js";

let env: Env;
before(async () => {
  env = await boot();
});
after(() => env.close());

describe("regions", () => {
  test("create (POST with and without id, PUT with id), get, list with parent filter, update", async () => {
    const { req, admin } = env;
    const a = await req("POST", "/v3/regions", admin, {
      region: { description: "generated id", note: "extra" },
    });
    assert.equal(a.status, 201);
    assert.match(a.body.region.id, /^[0-9a-f]{32}$/);
    assert.equal(a.body.region.description, "generated id");
    assert.equal(a.body.region.parent_region_id, null);
    assert.equal(a.body.region.note, "extra");
    assert.match(
      a.body.region.links.self,
      new RegExp(`^https?://[^/]+/identity/v3/regions/${a.body.region.id}$`),
    );

    const parent = await req("PUT", "/v3/regions/RegionParent", admin, { region: { description: "parent" } });
    assert.equal(parent.status, 201);
    assert.equal(parent.body.region.id, "RegionParent");
    const child = await req("POST", "/v3/regions", admin, {
      region: { id: "RegionChild", parent_region_id: "RegionParent" },
    });
    assert.equal(child.status, 201);
    assert.equal(child.body.region.parent_region_id, "RegionParent");
    assert.equal(child.body.region.description, "");

    const got = await req("GET", "/v3/regions/RegionChild", env.demo);
    assert.equal(got.status, 200);
    assert.equal(got.body.region.id, "RegionChild");

    const all = await req("GET", "/v3/regions", env.demo);
    assert.equal(all.status, 200);
    const ids = all.body.regions.map((r: any) => r.id);
    assert.ok(ids.includes("RegionOne") && ids.includes("RegionParent") && ids.includes("RegionChild"));
    assert.ok(all.body.links.self.endsWith("/identity/v3/regions"));

    const kids = await req("GET", "/v3/regions?parent_region_id=RegionParent", admin);
    assert.deepEqual(
      kids.body.regions.map((r: any) => r.id),
      ["RegionChild"],
    );

    const upd = await req("PATCH", "/v3/regions/RegionChild", admin, { region: { description: "updated" } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.region.description, "updated");
    assert.equal(upd.body.region.parent_region_id, "RegionParent");
  });

  test("errors: duplicate 409, missing parent 404, cycle 400, conflicting PUT id 400, unknown 404, demo 403, no token 401", async () => {
    const { req, admin, demo } = env;
    await req("PUT", "/v3/regions/R-dup", admin, { region: {} });
    const dup = await req("PUT", "/v3/regions/R-dup", admin, { region: {} });
    assert.equal(dup.status, 409);
    assert.ok(isKeystoneError(dup.body, 409));
    assert.equal((await req("POST", "/v3/regions", admin, { region: { id: "R-dup" } })).status, 409);
    assert.equal(
      (await req("POST", "/v3/regions", admin, { region: { parent_region_id: "nope" } })).status,
      404,
    );
    await req("PUT", "/v3/regions/R-a", admin, { region: {} });
    await req("PUT", "/v3/regions/R-b", admin, { region: { parent_region_id: "R-a" } });
    const cycle = await req("PATCH", "/v3/regions/R-a", admin, { region: { parent_region_id: "R-b" } });
    assert.equal(cycle.status, 400);
    assert.equal((await req("PUT", "/v3/regions/R-x", admin, { region: { id: "R-y" } })).status, 400);
    assert.equal((await req("POST", "/v3/regions", admin, { wrong: {} })).status, 400);
    assert.equal((await req("POST", "/v3/regions", admin, { region: { description: 5 } })).status, 400);
    const missing = await req("GET", "/v3/regions/none-such", admin);
    assert.equal(missing.status, 404);
    assert.ok(isKeystoneError(missing.body, 404));
    const forbidden = await req("POST", "/v3/regions", demo, { region: {} });
    assert.equal(forbidden.status, 403);
    assert.ok(isKeystoneError(forbidden.body, 403));
    assert.equal((await req("DELETE", "/v3/regions/R-a", demo)).status, 403);
    assert.equal((await req("GET", "/v3/regions")).status, 401);
    assert.equal((await req("GET", "/v3/regions", "bogus-token")).status, 401);
  });

  test("delete cascades to child regions but is refused (403) while endpoints use the subtree", async () => {
    const { req, admin } = env;
    await req("PUT", "/v3/regions/D-top", admin, { region: {} });
    await req("PUT", "/v3/regions/D-mid", admin, { region: { parent_region_id: "D-top" } });
    await req("PUT", "/v3/regions/D-leaf", admin, { region: { parent_region_id: "D-mid" } });
    const svc = await req("POST", "/v3/services", admin, { service: { type: "d-test", name: "d" } });
    const ep = await req("POST", "/v3/endpoints", admin, {
      endpoint: {
        service_id: svc.body.service.id,
        interface: "public",
        url: "http://d.example",
        region_id: "D-leaf",
      },
    });
    assert.equal(ep.status, 201);
    const refused = await req("DELETE", "/v3/regions/D-top", admin);
    assert.equal(refused.status, 403);
    assert.ok(isKeystoneError(refused.body, 403));
    assert.equal((await req("DELETE", `/v3/endpoints/${ep.body.endpoint.id}`, admin)).status, 204);
    assert.equal((await req("DELETE", "/v3/regions/D-top", admin)).status, 204);
    for (const id of ["D-top", "D-mid", "D-leaf"])
      assert.equal((await req("GET", `/v3/regions/${id}`, admin)).status, 404);
    assert.equal((await req("DELETE", "/v3/regions/D-top", admin)).status, 404);
  });
});

describe("services", () => {
  test("CRUD with type/name filters and extra attributes", async () => {
    const { req, admin } = env;
    const c = await req("POST", "/v3/services", admin, {
      service: { type: "widget", name: "widgets", description: "Widget service", color: "blue" },
    });
    assert.equal(c.status, 201);
    const s = c.body.service;
    assert.equal(s.type, "widget");
    assert.equal(s.name, "widgets");
    assert.equal(s.description, "Widget service");
    assert.equal(s.enabled, true);
    assert.equal(s.color, "blue");
    assert.ok(s.links.self.endsWith(`/identity/v3/services/${s.id}`));

    const noName = await req("POST", "/v3/services", admin, { service: { type: "gadget", enabled: false } });
    assert.equal(noName.status, 201);
    assert.equal(noName.body.service.name, "");
    assert.equal(noName.body.service.enabled, false);

    const byType = await req("GET", "/v3/services?type=widget", admin);
    assert.deepEqual(
      byType.body.services.map((x: any) => x.id),
      [s.id],
    );
    const byName = await req("GET", "/v3/services?name=keystone", admin);
    assert.equal(byName.body.services.length, 1);
    assert.equal(byName.body.services[0].type, "identity");

    const upd = await req("PATCH", `/v3/services/${s.id}`, admin, {
      service: { type: "widget2", enabled: false },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.service.type, "widget2");
    assert.equal(upd.body.service.enabled, false);
    assert.equal(upd.body.service.name, "widgets");
    assert.equal((await req("GET", `/v3/services/${s.id}`, admin)).body.service.type, "widget2");

    const ep = await req("POST", "/v3/endpoints", admin, {
      endpoint: { service_id: s.id, interface: "admin", url: "http://w.example" },
    });
    assert.equal(ep.status, 201);
    assert.equal((await req("DELETE", `/v3/services/${s.id}`, admin)).status, 204);
    assert.equal((await req("GET", `/v3/services/${s.id}`, admin)).status, 404);
    assert.equal(
      (await req("GET", `/v3/endpoints/${ep.body.endpoint.id}`, admin)).status,
      404,
      "endpoints go with their service",
    );
  });

  test("errors: 400 bad body, 403 demo, 404 unknown, 401 no token", async () => {
    const { req, admin, demo } = env;
    assert.equal((await req("POST", "/v3/services", admin, { service: { name: "no type" } })).status, 400);
    assert.equal((await req("POST", "/v3/services", admin, { service: { type: "" } })).status, 400);
    assert.equal(
      (await req("POST", "/v3/services", admin, { service: { type: "x", enabled: "yes" } })).status,
      400,
    );
    assert.equal((await req("POST", "/v3/services", admin, "not json")).status, 400);
    assert.equal((await req("GET", "/v3/services", demo)).status, 403);
    assert.equal((await req("POST", "/v3/services", demo, { service: { type: "x" } })).status, 403);
    assert.equal((await req("PATCH", "/v3/services/nope", admin, { service: { type: "x" } })).status, 404);
    assert.equal((await req("DELETE", "/v3/services/nope", admin)).status, 404);
    assert.equal((await req("GET", "/v3/services")).status, 401);
  });
});

describe("endpoints", () => {
  test("CRUD: region and region_id in responses, filters, legacy region auto-creation", async () => {
    const { req, admin } = env;
    const svc = (await req("POST", "/v3/services", admin, { service: { type: "ep-test", name: "ept" } })).body
      .service;
    const c = await req("POST", "/v3/endpoints", admin, {
      endpoint: {
        service_id: svc.id,
        interface: "public",
        url: "http://ep.example/v1/$(project_id)s",
        region_id: "RegionOne",
        shard: 3,
      },
    });
    assert.equal(c.status, 201);
    const e = c.body.endpoint;
    assert.equal(e.region_id, "RegionOne");
    assert.equal(e.region, "RegionOne");
    assert.equal(e.interface, "public");
    assert.equal(e.enabled, true);
    assert.equal(e.shard, 3);
    assert.equal(e.url, "http://ep.example/v1/$(project_id)s");
    assert.ok(e.links.self.endsWith(`/identity/v3/endpoints/${e.id}`));

    const legacy = await req("POST", "/v3/endpoints", admin, {
      endpoint: {
        service_id: svc.id,
        interface: "internal",
        url: "http://int.example",
        region: "AutoRegion",
      },
    });
    assert.equal(legacy.status, 201);
    assert.equal(legacy.body.endpoint.region_id, "AutoRegion");
    assert.equal((await req("GET", "/v3/regions/AutoRegion", admin)).status, 200);

    const byService = await req("GET", `/v3/endpoints?service_id=${svc.id}`, admin);
    assert.equal(byService.body.endpoints.length, 2);
    const byIface = await req("GET", `/v3/endpoints?service_id=${svc.id}&interface=internal`, admin);
    assert.deepEqual(
      byIface.body.endpoints.map((x: any) => x.id),
      [legacy.body.endpoint.id],
    );
    const byRegion = await req("GET", "/v3/endpoints?region_id=AutoRegion", admin);
    assert.deepEqual(
      byRegion.body.endpoints.map((x: any) => x.id),
      [legacy.body.endpoint.id],
    );

    const upd = await req("PATCH", `/v3/endpoints/${e.id}`, admin, {
      endpoint: { url: "http://ep2.example", enabled: false, region_id: null },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.endpoint.url, "http://ep2.example");
    assert.equal(upd.body.endpoint.enabled, false);
    assert.equal(upd.body.endpoint.region_id, null);
    assert.equal(upd.body.endpoint.region, null);
    assert.equal((await req("GET", `/v3/endpoints/${e.id}`, admin)).body.endpoint.url, "http://ep2.example");

    assert.equal((await req("DELETE", `/v3/endpoints/${e.id}`, admin)).status, 204);
    assert.equal((await req("GET", `/v3/endpoints/${e.id}`, admin)).status, 404);
  });

  test("new endpoints appear in the token catalog", async () => {
    const { req, admin } = env;
    const svc = (await req("POST", "/v3/services", admin, { service: { type: "catalog-test", name: "cat" } }))
      .body.service;
    await req("POST", "/v3/endpoints", admin, {
      endpoint: {
        service_id: svc.id,
        interface: "public",
        url: "http://cat.example/$(project_id)s",
        region_id: "RegionOne",
      },
    });
    const cat = await req("GET", "/v3/auth/catalog", admin);
    const entry = cat.body.catalog.find((s: any) => s.id === svc.id);
    assert.ok(entry, "service in catalog");
    assert.match(entry.endpoints[0].url, /^http:\/\/cat\.example\/[0-9a-f]{32}$/);
  });

  test("errors: bad interface/url 400, unknown service or region 400, bad substitution 400, 404, 403", async () => {
    const { req, admin, demo } = env;
    const svc = (await req("POST", "/v3/services", admin, { service: { type: "ep-err" } })).body.service;
    const base = { service_id: svc.id, interface: "public", url: "http://x.example" };
    assert.equal(
      (await req("POST", "/v3/endpoints", admin, { endpoint: { ...base, interface: "private" } })).status,
      400,
    );
    assert.equal(
      (await req("POST", "/v3/endpoints", admin, { endpoint: { ...base, url: "not a url" } })).status,
      400,
    );
    assert.equal(
      (await req("POST", "/v3/endpoints", admin, { endpoint: { ...base, url: "http://x/$(tenant)s" } }))
        .status,
      400,
    );
    assert.equal(
      (await req("POST", "/v3/endpoints", admin, { endpoint: { interface: "public", url: "http://x" } }))
        .status,
      400,
    );
    const noSvc = await req("POST", "/v3/endpoints", admin, { endpoint: { ...base, service_id: "nope" } });
    assert.equal(noSvc.status, 400);
    assert.ok(isKeystoneError(noSvc.body, 400));
    assert.equal(
      (await req("POST", "/v3/endpoints", admin, { endpoint: { ...base, region_id: "nope" } })).status,
      400,
    );
    assert.equal((await req("GET", "/v3/endpoints/nope", admin)).status, 404);
    assert.equal(
      (await req("PATCH", "/v3/endpoints/nope", admin, { endpoint: { url: "http://y" } })).status,
      404,
    );
    assert.equal((await req("GET", "/v3/endpoints", demo)).status, 403);
    assert.equal((await req("POST", "/v3/endpoints", demo, { endpoint: base })).status, 403);
  });
});
