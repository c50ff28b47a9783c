// Networks through the API: the version documents and errors, create/show/update/delete, provider attributes
// (admins only, segment allocation), sharing and external networks through RBAC, tenant isolation, lists.
import assert from "node:assert/strict";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { until } from "../helpers/wait.js";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

describe("networks", () => {
  let c: NetCloud;
  before(async () => {
    c = await bootNetwork();
  });
  after(() => c?.close());

  test("version documents: / without a token, /v2.0 with one; request ids; Neutron's error body", async () => {
    const root = await c.req("GET", "/");
    assert.equal(root.status, 200);
    assert.equal(root.body.versions[0].id, "v2.0");
    assert.equal(root.body.versions[0].status, "CURRENT");
    assert.match(root.body.versions[0].links[0].href, /\/networking\/v2\.0\/$/);
    assert.match(String(root.headers["x-openstack-request-id"]), /^req-[0-9a-f-]{36}$/);
    assert.equal((await c.req("GET", "/v2.0")).status, 401);
    const v2 = await c.ok("GET", "/v2.0/", 200);
    assert.ok(v2.resources.some((r: { collection: string }) => r.collection === "ports"));
    const missing = await c.req("GET", "/v2.0/networks/4f1b3bd5-0d43-4b1b-9ad4-1f0a3a6b0d5e", {
      token: c.admin,
    });
    neutronError(missing, 404, "NetworkNotFound");
    assert.equal(
      missing.body.NeutronError.message,
      "Network 4f1b3bd5-0d43-4b1b-9ad4-1f0a3a6b0d5e could not be found.",
    );
    neutronError(await c.req("POST", "/v2.0/networks", { token: c.admin, body: "{bad" }), 400);
  });

  test("extensions list exactly the implemented aliases; one by alias; an unknown alias is a 404", async () => {
    const list = await c.ok("GET", "/v2.0/extensions", 200);
    const aliases = list.extensions.map((e: { alias: string }) => e.alias);
    for (const a of [
      "provider",
      "external-net",
      "port-security",
      "binding",
      "quotas",
      "rbac-policies",
      "standard-attr-tag",
      "security-group",
      "stateful-security-group",
    ])
      assert.ok(aliases.includes(a), a);
    for (const a of ["dhcp_agent_scheduler"]) assert.ok(!aliases.includes(a), a);
    assert.equal((await c.ok("GET", "/v2.0/extensions/provider", 200)).extension.name, "Provider Network");
    neutronError(await c.req("GET", "/v2.0/extensions/dhcp_agent_scheduler", { token: c.admin }), 404);
  });

  test("a member creates a project network: a VXLAN segment (shown to admins only), MTU 1450, timestamps", async () => {
    const n = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "net-a" } } })
    ).network;
    assert.equal(n.project_id, c.demoProject);
    assert.equal(n.tenant_id, c.demoProject);
    assert.equal(n.mtu, 1450);
    assert.equal(n.status, "ACTIVE");
    assert.equal(n.shared, false);
    assert.equal(n["router:external"], false);
    assert.equal(n.revision_number, 1);
    assert.match(n.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(!("provider:network_type" in n));
    const seen = (await c.ok("GET", `/v2.0/networks/${n.id}`, 200)).network;
    assert.equal(seen["provider:network_type"], "vxlan");
    assert.ok(seen["provider:segmentation_id"] >= 1 && seen["provider:segmentation_id"] <= 1000);
    const renamed = (
      await c.ok("PUT", `/v2.0/networks/${n.id}`, 200, {
        token: c.demo,
        body: { network: { name: "net-b", mtu: 1400 } },
      })
    ).network;
    assert.equal(renamed.name, "net-b");
    assert.equal(renamed.mtu, 1400);
    assert.equal(renamed.revision_number, 2);
    neutronError(
      await c.req("PUT", `/v2.0/networks/${n.id}`, { token: c.demo, body: { network: { mtu: 9000 } } }),
      400,
      "InvalidInput",
    );
    neutronError(
      await c.req("PUT", `/v2.0/networks/${n.id}`, { token: c.demo, body: { network: { tenant_id: "x" } } }),
      400,
      "HTTPBadRequest",
    );
    neutronError(
      await c.req("POST", "/v2.0/networks", {
        token: c.demo,
        body: { network: { name: "x", colour: "red" } },
      }),
      400,
      "HTTPBadRequest",
    );
    assert.equal((await c.req("DELETE", `/v2.0/networks/${n.id}`, { token: c.demo })).status, 204);
    neutronError(await c.req("GET", `/v2.0/networks/${n.id}`, { token: c.demo }), 404, "NetworkNotFound");
  });

  test("provider attributes are an admin's: flat, vlan (allocated or chosen), vxlan, local; conflicts are 409", async () => {
    const denied = await c.req("POST", "/v2.0/networks", {
      token: c.demo,
      body: { network: { name: "p", "provider:network_type": "local" } },
    });
    neutronError(denied, 403, "PolicyNotAuthorized");
    assert.match(denied.body.NeutronError.message, /create_network:provider:network_type/);
    const flat = (
      await c.ok("POST", "/v2.0/networks", 201, {
        body: {
          network: {
            name: "flat1",
            "provider:network_type": "flat",
            "provider:physical_network": "physnet9",
          },
        },
      })
    ).network;
    assert.equal(flat["provider:physical_network"], "physnet9");
    assert.equal(flat["provider:segmentation_id"], null);
    assert.equal(flat.mtu, 1500);
    neutronError(
      await c.req("POST", "/v2.0/networks", {
        token: c.admin,
        body: { network: { "provider:network_type": "flat", "provider:physical_network": "physnet9" } },
      }),
      409,
      "FlatNetworkInUse",
    );
    const vlan = (
      await c.ok("POST", "/v2.0/networks", 201, {
        body: { network: { "provider:network_type": "vlan", "provider:physical_network": "physnet1" } },
      })
    ).network;
    assert.ok(vlan["provider:segmentation_id"] >= 1000 && vlan["provider:segmentation_id"] <= 1999);
    const chosen = (
      await c.ok("POST", "/v2.0/networks", 201, {
        body: {
          network: {
            "provider:network_type": "vlan",
            "provider:physical_network": "physnet1",
            "provider:segmentation_id": 42,
          },
        },
      })
    ).network;
    assert.equal(chosen["provider:segmentation_id"], 42);
    neutronError(
      await c.req("POST", "/v2.0/networks", {
        token: c.admin,
        body: {
          network: {
            "provider:network_type": "vlan",
            "provider:physical_network": "physnet1",
            "provider:segmentation_id": 42,
          },
        },
      }),
      409,
      "VlanIdInUse",
    );
    const vx = (
      await c.ok("POST", "/v2.0/networks", 201, {
        body: { network: { "provider:network_type": "vxlan", "provider:segmentation_id": 5000 } },
      })
    ).network;
    assert.equal(vx["provider:segmentation_id"], 5000);
    neutronError(
      await c.req("POST", "/v2.0/networks", {
        token: c.admin,
        body: { network: { "provider:network_type": "vxlan", "provider:segmentation_id": 5000 } },
      }),
      409,
      "TunnelIdInUse",
    );
    for (const bad of [
      { "provider:network_type": "gre" },
      { "provider:network_type": "flat" },
      { "provider:network_type": "vlan", "provider:physical_network": "nowhere" },
      {
        "provider:network_type": "vlan",
        "provider:physical_network": "physnet1",
        "provider:segmentation_id": 4095,
      },
      { "provider:network_type": "vxlan", "provider:physical_network": "physnet1" },
      { "provider:network_type": "local", "provider:segmentation_id": 3 },
    ])
      neutronError(
        await c.req("POST", "/v2.0/networks", { token: c.admin, body: { network: bad } }),
        400,
        "InvalidInput",
      );
    neutronError(
      await c.req("PUT", `/v2.0/networks/${vx.id}`, {
        token: c.admin,
        body: { network: { "provider:segmentation_id": 5001 } },
      }),
      400,
      "InvalidInput",
    );
    // Deleting frees the id for the next network.
    for (const n of [flat, vlan, chosen, vx])
      assert.equal((await c.req("DELETE", `/v2.0/networks/${n.id}`, { token: c.admin })).status, 204);
    await c.ok("POST", "/v2.0/networks", 201, {
      body: { network: { "provider:network_type": "vxlan", "provider:segmentation_id": 5000 } },
    });
  });

  test("tenant isolation: another project's network is a 404 to read, change or delete; shared networks are visible", async () => {
    const other = await c.user("iso");
    const mine = (
      await c.ok("POST", "/v2.0/networks", 201, { token: c.demo, body: { network: { name: "private-iso" } } })
    ).network;
    for (const [m, b] of [
      ["GET", undefined],
      ["PUT", { network: { name: "x" } }],
      ["DELETE", undefined],
    ] as const)
      neutronError(
        await c.req(m, `/v2.0/networks/${mine.id}`, { token: other.token, body: b }),
        404,
        "NetworkNotFound",
      );
    const names = async (token: string) =>
      (await c.req("GET", "/v2.0/networks", { token })).body.networks.map((n: { name: string }) => n.name);
    assert.ok(!(await names(other.token)).includes("private-iso"));
    // Only admins share with everyone; then every project sees it (shared: true) and may put ports on it.
    neutronError(
      await c.req("PUT", `/v2.0/networks/${mine.id}`, { token: c.demo, body: { network: { shared: true } } }),
      403,
      "PolicyNotAuthorized",
    );
    const shared = (
      await c.ok("PUT", `/v2.0/networks/${mine.id}`, 200, { body: { network: { shared: true } } })
    ).network;
    assert.equal(shared.shared, true);
    assert.ok((await names(other.token)).includes("private-iso"));
    assert.equal(
      (await c.req("GET", `/v2.0/networks/${mine.id}`, { token: other.token })).body.network.shared,
      true,
    );
    // A reader of the owning project sees it but may not change it (403, not 404).
    const reader = await c.user("iso-reader", "reader", c.demoProject);
    neutronError(
      await c.req("PUT", `/v2.0/networks/${mine.id}`, {
        token: reader.token,
        body: { network: { name: "y" } },
      }),
      403,
    );
    // The other project's port keeps it from being unshared.
    const s = await c.ok("POST", "/v2.0/subnets", 201, {
      token: c.demo,
      body: { subnet: { network_id: mine.id, ip_version: 4, cidr: "10.40.0.0/24" } },
    });
    assert.ok(s.subnet.id);
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, { token: other.token, body: { port: { network_id: mine.id } } })
    ).port;
    assert.equal(port.project_id, other.project);
    neutronError(
      await c.req("PUT", `/v2.0/networks/${mine.id}`, {
        token: c.admin,
        body: { network: { shared: false } },
      }),
      409,
      "InvalidSharedSetting",
    );
    neutronError(await c.req("DELETE", `/v2.0/networks/${mine.id}`, { token: c.demo }), 409, "NetworkInUse");
    assert.equal((await c.req("DELETE", `/v2.0/ports/${port.id}`, { token: other.token })).status, 204);
    await c.ok("PUT", `/v2.0/networks/${mine.id}`, 200, { body: { network: { shared: false } } });
    assert.ok(!(await names(other.token)).includes("private-iso"));
    assert.equal((await c.req("DELETE", `/v2.0/networks/${mine.id}`, { token: c.demo })).status, 204);
  });

  test("the start-up topology: public (external, flat) and the demo's private; demo sees both, not public's subnet", async () => {
    const all = (await c.ok("GET", "/v2.0/networks?name=public", 200)).networks;
    assert.equal(all.length, 1);
    const pub = all[0];
    assert.equal(pub["router:external"], true);
    assert.equal(pub["provider:network_type"], "flat");
    assert.equal(pub["provider:physical_network"], "public");
    assert.equal(pub.project_id, c.adminProject);
    const sub = (await c.ok("GET", `/v2.0/subnets/${pub.subnets[0]}`, 200)).subnet;
    assert.equal(sub.cidr, "172.24.4.0/24");
    assert.equal(sub.gateway_ip, "172.24.4.1");
    assert.equal(sub.enable_dhcp, false);
    const demoNets = (await c.req("GET", "/v2.0/networks", { token: c.demo })).body.networks;
    const priv = demoNets.find((n: { name: string }) => n.name === "private");
    assert.ok(priv && demoNets.some((n: { name: string }) => n.name === "public"));
    assert.equal(
      (await c.req("GET", `/v2.0/subnets/${priv.subnets[0]}`, { token: c.demo })).body.subnet.cidr,
      "10.0.0.0/26",
    );
    neutronError(
      await c.req("GET", `/v2.0/subnets/${pub.subnets[0]}`, { token: c.demo }),
      404,
      "SubnetNotFound",
    );
    // A project may not put a port on the external network (Neutron hides it as not found).
    neutronError(
      await c.req("POST", "/v2.0/ports", { token: c.demo, body: { port: { network_id: pub.id } } }),
      404,
    );
    // Created once: another bootstrap is a no-op.
    assert.equal(await c.t.cloud.network.bootstrap({ admin: c.adminProject, demo: c.demoProject }), null);
  });

  test("lists: filters (unknown ones refused), fields, sorting, pagination with links, tag filters", async () => {
    const u = await c.user("lists");
    const ids: string[] = [];
    for (const name of ["l-c", "l-a", "l-b", "l-d"])
      ids.push(
        (await c.ok("POST", "/v2.0/networks", 201, { token: u.token, body: { network: { name } } })).network
          .id,
      );
    await c.ok("PUT", `/v2.0/networks/${ids[0]}/tags`, 200, {
      token: u.token,
      body: { tags: ["red", "blue"] },
    });
    await c.ok("PUT", `/v2.0/networks/${ids[1]}/tags/red`, 201, { token: u.token });
    const get = async (q: string) => {
      const sep = q.includes("?") ? "&" : "?";
      const r = await c.req(
        "GET",
        `/v2.0/networks${q}${q.includes("marker=") ? "" : `${sep}project_id=${u.project}`}`,
        {
          token: u.token,
        },
      );
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    assert.deepEqual(
      (await get("?sort_key=name&sort_dir=desc")).networks.map((n: { name: string }) => n.name),
      ["l-d", "l-c", "l-b", "l-a"],
    );
    assert.deepEqual(
      (await get("?name=l-a&name=l-b&sort_key=name&sort_dir=asc")).networks.map(
        (n: { name: string }) => n.name,
      ),
      ["l-a", "l-b"],
    );
    assert.deepEqual((await get("?fields=id&fields=name&name=l-a")).networks, [{ id: ids[1], name: "l-a" }]);
    assert.deepEqual(
      (await get("?tags=red&sort_key=name&sort_dir=asc")).networks.map((n: { name: string }) => n.name),
      ["l-a", "l-c"],
    );
    assert.deepEqual(
      (await get("?tags=red,blue")).networks.map((n: { name: string }) => n.name),
      ["l-c"],
    );
    assert.deepEqual(
      (await get("?not-tags-any=red&sort_key=name&sort_dir=asc")).networks.map(
        (n: { name: string }) => n.name,
      ),
      ["l-b", "l-d"],
    );
    assert.equal((await get("?shared=false&admin_state_up=true")).networks.length, 4);
    const page1 = await get("?limit=2&sort_key=name&sort_dir=asc");
    assert.deepEqual(
      page1.networks.map((n: { name: string }) => n.name),
      ["l-a", "l-b"],
    );
    const next = page1.networks_links.find((l: { rel: string }) => l.rel === "next").href as string;
    assert.match(next, /^http:\/\/[^/]+\/networking\/v2\.0\/networks\?/);
    const page2 = await get(next.slice(next.indexOf("?")));
    assert.deepEqual(
      page2.networks.map((n: { name: string }) => n.name),
      ["l-c", "l-d"],
    );
    const page3 = await get(
      page2.networks_links.find((l: { rel: string }) => l.rel === "next").href.replace(/^.*\?/, "?"),
    );
    assert.deepEqual(page3.networks, []);
    assert.ok(!page3.networks_links.some((l: { rel: string }) => l.rel === "next"));
    const back = page2.networks_links.find((l: { rel: string }) => l.rel === "previous").href as string;
    assert.deepEqual(
      (await get(back.slice(back.indexOf("?")))).networks.map((n: { name: string }) => n.name),
      ["l-a", "l-b"],
    );
    neutronError(await c.req("GET", "/v2.0/networks?colour=red", { token: u.token }), 400);
    neutronError(await c.req("GET", "/v2.0/networks?sort_key=colour&sort_dir=asc", { token: u.token }), 400);
    neutronError(await c.req("GET", "/v2.0/networks?limit=-1", { token: u.token }), 400);
    neutronError(
      await c.req("GET", "/v2.0/networks?limit=1&marker=nope", { token: u.token }),
      404,
      "NetworkNotFound",
    );
  });

  test("availability zones: the agent's zone; hints must name one", async () => {
    const zones = await c.ok("GET", "/v2.0/availability_zones", 200, { token: c.demo });
    assert.deepEqual(zones.availability_zones, [{ name: "nova", resource: "network", state: "available" }]);
    const n = (
      await c.ok("POST", "/v2.0/networks", 201, { body: { network: { availability_zone_hints: ["nova"] } } })
    ).network;
    assert.deepEqual(n.availability_zone_hints, ["nova"]);
    neutronError(
      await c.req("POST", "/v2.0/networks", {
        token: c.admin,
        body: { network: { availability_zone_hints: ["mars"] } },
      }),
      404,
      "AvailabilityZoneNotFound",
    );
  });

  test("the defaults are overridable in policy.yaml (here: only admins create networks)", async () => {
    const file = join(c.t.dataDir, "policy.yaml");
    writeFileSync(file, '"create_network": "rule:admin_only"\n');
    try {
      await until("the override applies", async () => {
        c.t.cloud.policy.reloadIfChanged();
        const r = await c.req("POST", "/v2.0/networks", {
          token: c.demo,
          body: { network: { name: "pol" } },
        });
        if (r.status === 201) await c.req("DELETE", `/v2.0/networks/${r.body.network.id}`, { token: c.demo });
        return r.status === 403;
      });
    } finally {
      rmSync(file);
    }
    await until("the defaults apply again", async () => {
      c.t.cloud.policy.reloadIfChanged();
      const r = await c.req("POST", "/v2.0/networks", { token: c.demo, body: { network: { name: "pol2" } } });
      return r.status === 201;
    });
  });

  test("bulk create makes every network or none", async () => {
    const r = await c.ok("POST", "/v2.0/networks", 201, {
      token: c.demo,
      body: { networks: [{ name: "bulk-1" }, { name: "bulk-2" }] },
    });
    assert.deepEqual(
      r.networks.map((n: { name: string }) => n.name),
      ["bulk-1", "bulk-2"],
    );
    const flat = { "provider:network_type": "flat", "provider:physical_network": "physnet-bulk" };
    const failed = await c.req("POST", "/v2.0/networks", {
      token: c.admin,
      body: {
        networks: [
          { name: "bulk-3", ...flat },
          { name: "bulk-4", ...flat },
        ],
      },
    });
    neutronError(failed, 409, "FlatNetworkInUse");
    assert.deepEqual((await c.ok("GET", "/v2.0/networks?name=bulk-3", 200)).networks, []);
  });
});
