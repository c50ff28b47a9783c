// OS-EP-FILTER: endpoint groups and project-endpoint associations.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { boot, isKeystoneError, type Env } from "../api-extra/helpers.js";

let env: Env;
let demoProject: string;
let svcA: string;
let svcB: string;
let epA1: string;
let epA2: string;
let epB: string;
before(async () => {
  env = await boot();
  const { req, admin } = env;
  demoProject = (await req("GET", "/v3/auth/projects", env.demo)).body.projects[0].id;
  svcA = (await req("POST", "/v3/services", admin, { service: { type: "typeA", name: "A" } })).body.service
    .id;
  svcB = (await req("POST", "/v3/services", admin, { service: { type: "typeB", name: "B" } })).body.service
    .id;
  const ep = async (service_id: string, iface: string) =>
    (
      await req("POST", "/v3/endpoints", admin, {
        endpoint: {
          service_id,
          interface: iface,
          url: `http://${iface}.example/${service_id}`,
          region_id: "RegionOne",
        },
      })
    ).body.endpoint.id as string;
  epA1 = await ep(svcA, "public");
  epA2 = await ep(svcA, "internal");
  epB = await ep(svcB, "public");
});
after(() => env.close());

const EG = "/v3/OS-EP-FILTER/endpoint_groups";

describe("endpoint groups", () => {
  test("CRUD, HEAD, list by name, filtered endpoints", async () => {
    const { req, admin } = env;
    const c = await req("POST", EG, admin, {
      endpoint_group: { name: "group-a", description: "A's endpoints", filters: { service_id: svcA } },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const g = c.body.endpoint_group;
    assert.equal(g.name, "group-a");
    assert.deepEqual(g.filters, { service_id: svcA });
    assert.ok(g.links.self.endsWith(`/identity${EG}/${g.id}`));

    const list = await req("GET", EG, admin);
    assert.ok(list.body.endpoint_groups.some((x: any) => JSON.stringify(x) === JSON.stringify(g)));
    assert.deepEqual(
      (await req("GET", `${EG}?name=group-a`, admin)).body.endpoint_groups.map((x: any) => x.id),
      [g.id],
    );
    assert.deepEqual((await req("GET", `${EG}/${g.id}`, admin)).body.endpoint_group, g);
    assert.equal((await req("HEAD", `${EG}/${g.id}`, admin)).status, 200);

    const eps = await req("GET", `${EG}/${g.id}/endpoints`, admin);
    assert.deepEqual(eps.body.endpoints.map((e: any) => e.id).sort(), [epA1, epA2].sort());

    const upd = await req("PATCH", `${EG}/${g.id}`, admin, {
      endpoint_group: { filters: { service_id: svcA, interface: "internal" }, description: null },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.endpoint_group.description, null);
    assert.equal(upd.body.endpoint_group.name, "group-a");
    assert.deepEqual(
      (await req("GET", `${EG}/${g.id}/endpoints`, admin)).body.endpoints.map((e: any) => e.id),
      [epA2],
    );

    assert.equal((await req("DELETE", `${EG}/${g.id}`, admin)).status, 204);
    const gone = await req("GET", `${EG}/${g.id}`, admin);
    assert.equal(gone.status, 404);
    assert.ok(isKeystoneError(gone.body, 404));
    assert.equal((await req("DELETE", `${EG}/${g.id}`, admin)).status, 404);
  });

  test("validation and policy", async () => {
    const { req, admin, demo } = env;
    const bad = [
      { name: "x" },
      { name: "x", filters: {} },
      { name: "x", filters: { url: "y" } },
      { name: "x", filters: { interface: "sideways" } },
      { filters: { service_id: svcA } },
      { name: "x", filters: { service_id: svcA }, extra: 1 },
    ];
    for (const b of bad)
      assert.equal((await req("POST", EG, admin, { endpoint_group: b })).status, 400, JSON.stringify(b));
    const g = (
      await req("POST", EG, admin, { endpoint_group: { name: "p", filters: { interface: "public" } } })
    ).body.endpoint_group;
    assert.equal((await req("PATCH", `${EG}/${g.id}`, admin, { endpoint_group: {} })).status, 400);
    assert.equal(
      (await req("PATCH", `${EG}/${g.id}`, admin, { endpoint_group: { filters: { enabled: true } } })).status,
      400,
    );
    assert.equal((await req("GET", EG, demo)).status, 403);
    assert.equal(
      (await req("POST", EG, demo, { endpoint_group: { name: "d", filters: { interface: "public" } } }))
        .status,
      403,
    );
    assert.equal((await req("DELETE", `${EG}/${g.id}`, demo)).status, 403);
  });

  test("project associations: groups and single endpoints", async () => {
    const { req, admin } = env;
    const P = "/v3/OS-EP-FILTER/projects";
    const g = (await req("POST", EG, admin, { endpoint_group: { name: "b", filters: { service_id: svcB } } }))
      .body.endpoint_group;
    const assoc = `${EG}/${g.id}/projects/${demoProject}`;
    assert.equal((await req("GET", assoc, admin)).status, 404);
    assert.equal((await req("PUT", assoc, admin)).status, 204);
    assert.equal((await req("PUT", assoc, admin)).status, 409);
    const shown = await req("GET", assoc, admin);
    assert.equal(shown.status, 200);
    assert.equal(shown.body.project_endpoint_group.endpoint_group_id, g.id);
    assert.equal(shown.body.project_endpoint_group.project_id, demoProject);
    assert.deepEqual(
      (await req("GET", `${EG}/${g.id}/projects`, admin)).body.projects.map((p: any) => p.id),
      [demoProject],
    );
    assert.deepEqual(
      (await req("GET", `${P}/${demoProject}/endpoint_groups`, admin)).body.endpoint_groups.map(
        (x: any) => x.id,
      ),
      [g.id],
    );
    assert.equal((await req("PUT", `${EG}/${g.id}/projects/nope`, admin)).status, 404);
    assert.equal((await req("PUT", `${EG}/nope/projects/${demoProject}`, admin)).status, 404);

    // Direct endpoint associations, merged with the group's endpoints.
    const pe = `${P}/${demoProject}/endpoints/${epA1}`;
    assert.equal((await req("HEAD", pe, admin)).status, 404);
    assert.equal((await req("PUT", pe, admin)).status, 204);
    assert.equal((await req("PUT", pe, admin)).status, 204);
    assert.equal((await req("HEAD", pe, admin)).status, 204);
    assert.equal((await req("GET", pe, admin)).status, 204);
    assert.deepEqual(
      (await req("GET", `${P}/${demoProject}/endpoints`, admin)).body.endpoints.map((e: any) => e.id).sort(),
      [epA1, epB].sort(),
    );
    assert.deepEqual(
      (await req("GET", `/v3/OS-EP-FILTER/endpoints/${epA1}/projects`, admin)).body.projects.map(
        (p: any) => p.id,
      ),
      [demoProject],
    );
    assert.equal((await req("PUT", `${P}/${demoProject}/endpoints/nope`, admin)).status, 404);
    assert.equal((await req("GET", `/v3/OS-EP-FILTER/endpoints/nope/projects`, admin)).status, 404);
    assert.equal((await req("DELETE", pe, admin)).status, 204);
    assert.equal((await req("DELETE", pe, admin)).status, 404);

    assert.equal((await req("DELETE", assoc, admin)).status, 204);
    assert.equal((await req("DELETE", assoc, admin)).status, 404);
    assert.deepEqual((await req("GET", `${P}/${demoProject}/endpoints`, admin)).body.endpoints, []);

    // Deleting a group removes its associations.
    assert.equal((await req("PUT", assoc, admin)).status, 204);
    assert.equal((await req("DELETE", `${EG}/${g.id}`, admin)).status, 204);
    assert.deepEqual(
      (await req("GET", `${P}/${demoProject}/endpoint_groups`, admin)).body.endpoint_groups,
      [],
    );
  });
});
