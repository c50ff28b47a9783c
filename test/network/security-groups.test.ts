// Security groups and rules through the API: the default group made on first use with Neutron's default rules,
// CRUD with stateful, tags and revisions, project isolation, the default group's protections, groups in use by
// ports, rule validation (protocols, ports, ICMP, ethertypes, prefixes, remote groups), duplicates, quotas.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { securityGroupSpecs } from "../../src/network/agent/specs.js";
import type { NoopDriver } from "../../src/network/drivers/noop.js";
import { until } from "../helpers/wait.js";
import { bootNetwork, neutronError, type NetCloud } from "./helpers.js";

const SG = "/v2.0/security-groups";
const R = "/v2.0/security-group-rules";

describe("security groups", () => {
  let c: NetCloud;
  let m: { token: string; project: string };
  before(async () => {
    c = await bootNetwork();
    m = await c.user("sg-member");
  });
  after(() => c?.close());

  const mine = (token: string) => ({ token });

  test("a project's first list makes its default group with Neutron's four default rules, once", async () => {
    const first = await c.req("GET", SG, mine(m.token));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.security_groups.length, 1);
    const g = first.body.security_groups[0];
    assert.equal(g.name, "default");
    assert.equal(g.project_id, m.project);
    assert.equal(g.stateful, true);
    const rules = g.security_group_rules.map(
      (r: any) =>
        `${r.direction} ${r.ethertype} ${r.protocol} ${r.remote_group_id === g.id ? "self" : r.remote_group_id}`,
    );
    assert.deepEqual(rules.sort(), [
      "egress IPv4 null null",
      "egress IPv6 null null",
      "ingress IPv4 null self",
      "ingress IPv6 null self",
    ]);
    const again = await c.req("GET", SG, mine(m.token));
    assert.deepEqual(
      again.body.security_groups.map((x: any) => x.id),
      [g.id],
    );
    // Racing first lists of another project agree on one default group.
    const other = await c.user("sg-race");
    await Promise.all([1, 2, 3, 4].map(() => c.req("GET", SG, mine(other.token))));
    const listed = (await c.req("GET", SG, mine(other.token))).body.security_groups;
    assert.equal(listed.filter((x: any) => x.name === "default").length, 1);
  });

  test("create, show, update (name, description, stateful), tags, revision, delete; other projects see 404", async () => {
    const g = (
      await c.req("POST", SG, {
        ...mine(m.token),
        body: { security_group: { name: "web", description: "d" } },
      })
    ).body.security_group;
    assert.equal(g.name, "web");
    assert.equal(g.stateful, true);
    assert.equal(g.revision_number, 1);
    assert.deepEqual(g.security_group_rules.map((r: any) => `${r.direction} ${r.ethertype}`).sort(), [
      "egress IPv4",
      "egress IPv6",
    ]);
    const shown = (await c.req("GET", `${SG}/${g.id}?fields=name&fields=id`, mine(m.token))).body
      .security_group;
    assert.deepEqual(shown, { name: "web", id: g.id });
    const upd = await c.req("PUT", `${SG}/${g.id}`, {
      ...mine(m.token),
      body: { security_group: { name: "web2", description: "e", stateful: false } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.equal(upd.body.security_group.name, "web2");
    assert.equal(upd.body.security_group.stateful, false);
    assert.equal(upd.body.security_group.revision_number, 2);
    assert.equal((await c.req("PUT", `${SG}/${g.id}/tags/blue`, mine(m.token))).status, 201);
    const tagged = await c.req("GET", `${SG}?tags=blue`, mine(m.token));
    assert.deepEqual(
      tagged.body.security_groups.map((x: any) => x.id),
      [g.id],
    );
    const other = await c.user("sg-other");
    neutronError(await c.req("GET", `${SG}/${g.id}`, mine(other.token)), 404, "SecurityGroupNotFound");
    neutronError(await c.req("DELETE", `${SG}/${g.id}`, mine(other.token)), 404, "SecurityGroupNotFound");
    assert.ok(
      !(await c.req("GET", SG, mine(other.token))).body.security_groups.some((x: any) => x.id === g.id),
    );
    const reader = await c.user("sg-reader", "reader", m.project);
    assert.equal((await c.req("GET", `${SG}/${g.id}`, mine(reader.token))).status, 200);
    neutronError(
      await c.req("PUT", `${SG}/${g.id}`, { ...mine(reader.token), body: { security_group: { name: "x" } } }),
      403,
    );
    neutronError(
      await c.req("POST", SG, { ...mine(reader.token), body: { security_group: { name: "x" } } }),
      403,
    );
    assert.equal((await c.req("DELETE", `${SG}/${g.id}`, mine(m.token))).status, 204);
    neutronError(await c.req("GET", `${SG}/${g.id}`, mine(m.token)), 404, "SecurityGroupNotFound");
    // Its rules went with it.
    const left = (await c.req("GET", `${R}?security_group_id=${g.id}`, mine(m.token))).body
      .security_group_rules;
    assert.deepEqual(left, []);
  });

  test("default group: not created again by name, not renamed, not deleted by members; admins may delete it", async () => {
    const u = await c.user("sg-def");
    const def = (await c.req("GET", `${SG}?name=default`, mine(u.token))).body.security_groups[0];
    neutronError(
      await c.req("POST", SG, { ...mine(u.token), body: { security_group: { name: "default" } } }),
      409,
      "SecurityGroupDefaultAlreadyExists",
    );
    neutronError(
      await c.req("PUT", `${SG}/${def.id}`, { ...mine(u.token), body: { security_group: { name: "x" } } }),
      409,
      "SecurityGroupCannotUpdateDefault",
    );
    const desc = await c.req("PUT", `${SG}/${def.id}`, {
      ...mine(u.token),
      body: { security_group: { description: "ok" } },
    });
    assert.equal(desc.status, 200, desc.text);
    neutronError(
      await c.req("DELETE", `${SG}/${def.id}`, mine(u.token)),
      409,
      "SecurityGroupCannotRemoveDefault",
    );
    neutronError(
      await c.req("POST", SG, { ...mine(u.token), body: { security_group: { name: "a", id: "x" } } }),
      400,
    );
    neutronError(
      await c.req("POST", SG, { ...mine(u.token), body: { security_group: { name: "a", bogus: 1 } } }),
      400,
    );
    assert.equal((await c.req("DELETE", `${SG}/${def.id}`, { token: c.admin })).status, 204);
  });

  test("ports: the default group by default, ownership checked on update, a used group cannot be deleted", async () => {
    const u = await c.user("sg-ports");
    const net = (
      await c.req("POST", "/v2.0/networks", { ...mine(u.token), body: { network: { name: "n" } } })
    ).body.network;
    const port = (
      await c.req("POST", "/v2.0/ports", { ...mine(u.token), body: { port: { network_id: net.id } } })
    ).body.port;
    const def = (await c.req("GET", `${SG}?name=default`, mine(u.token))).body.security_groups;
    assert.equal(def.length, 1);
    assert.deepEqual(port.security_groups, [def[0].id]);
    const g = (await c.req("POST", SG, { ...mine(u.token), body: { security_group: { name: "app" } } })).body
      .security_group;
    const upd = await c.req("PUT", `/v2.0/ports/${port.id}`, {
      ...mine(u.token),
      body: { port: { security_groups: [g.id] } },
    });
    assert.equal(upd.status, 200, upd.text);
    assert.deepEqual(upd.body.port.security_groups, [g.id]);
    neutronError(await c.req("DELETE", `${SG}/${g.id}`, mine(u.token)), 409, "SecurityGroupInUse");
    neutronError(
      await c.req("PUT", `${SG}/${g.id}`, {
        ...mine(u.token),
        body: { security_group: { stateful: false } },
      }),
      409,
      "SecurityGroupInUse",
    );
    const foreign = (
      await c.req("POST", SG, { ...mine(m.token), body: { security_group: { name: "theirs" } } })
    ).body.security_group;
    neutronError(
      await c.req("PUT", `/v2.0/ports/${port.id}`, {
        ...mine(u.token),
        body: { port: { security_groups: [foreign.id] } },
      }),
      404,
      "SecurityGroupNotFound",
    );
    const ports = (await c.req("GET", `/v2.0/ports?security_groups=${g.id}`, mine(u.token))).body.ports;
    assert.deepEqual(
      ports.map((p: any) => p.id),
      [port.id],
    );
    assert.equal((await c.req("DELETE", `/v2.0/ports/${port.id}`, mine(u.token))).status, 204);
    assert.equal((await c.req("DELETE", `${SG}/${g.id}`, mine(u.token))).status, 204);
  });

  test("quota: security_group counted per project, atomically under racing creates", async () => {
    const u = await c.user("sg-quota");
    await c.ok("PUT", `/v2.0/quotas/${u.project}`, 200, { body: { quota: { security_group: 3 } } });
    // The default group counts: two more fit, whatever the races.
    const rs = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        c.req("POST", SG, { ...mine(u.token), body: { security_group: { name: `q${i}` } } }),
      ),
    );
    assert.equal(rs.filter((r) => r.status === 201).length, 2, rs.map((r) => r.text).join("\n"));
    for (const r of rs.filter((x) => x.status !== 201)) neutronError(r, 409, "OverQuota");
    const details = await c.ok("GET", `/v2.0/quotas/${u.project}/details`, 200);
    assert.equal(details.quota.security_group.used, 3);
  });
});

describe("security group rules", () => {
  let c: NetCloud;
  let m: { token: string; project: string };
  let gid: string;
  before(async () => {
    c = await bootNetwork();
    m = await c.user("r-member");
    gid = (await c.req("POST", SG, { token: m.token, body: { security_group: { name: "r" } } })).body
      .security_group.id;
  });
  after(() => c?.close());

  const add = (rule: Record<string, unknown>, token?: string) =>
    c.req("POST", R, {
      token: token ?? m.token,
      body: { security_group_rule: { security_group_id: gid, direction: "ingress", ...rule } },
    });

  test("create tcp 22 from 0.0.0.0/0, show, list with filters, delete; the group shows its rules", async () => {
    const r = await add({
      protocol: "tcp",
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: "0.0.0.0/0",
      description: "ssh",
    });
    assert.equal(r.status, 201, r.text);
    const rule = r.body.security_group_rule;
    assert.equal(rule.protocol, "tcp");
    assert.equal(rule.ethertype, "IPv4");
    assert.equal(rule.port_range_min, 22);
    assert.equal(rule.remote_ip_prefix, "0.0.0.0/0");
    assert.equal(rule.description, "ssh");
    assert.equal(rule.project_id, m.project);
    assert.equal(
      (await c.req("GET", `${R}/${rule.id}`, { token: m.token })).body.security_group_rule.id,
      rule.id,
    );
    const listed = (await c.req("GET", `${R}?security_group_id=${gid}&protocol=tcp`, { token: m.token })).body
      .security_group_rules;
    assert.deepEqual(
      listed.map((x: any) => x.id),
      [rule.id],
    );
    const g = (await c.req("GET", `${SG}/${gid}`, { token: m.token })).body.security_group;
    assert.ok(g.security_group_rules.some((x: any) => x.id === rule.id));
    const other = await c.user("r-other");
    neutronError(
      await c.req("GET", `${R}/${rule.id}`, { token: other.token }),
      404,
      "SecurityGroupRuleNotFound",
    );
    neutronError(
      await c.req("DELETE", `${R}/${rule.id}`, { token: other.token }),
      404,
      "SecurityGroupRuleNotFound",
    );
    neutronError(await add({ protocol: "udp" }, other.token), 404, "SecurityGroupNotFound");
    assert.equal((await c.req("DELETE", `${R}/${rule.id}`, { token: m.token })).status, 204);
    neutronError(await c.req("GET", `${R}/${rule.id}`, { token: m.token }), 404, "SecurityGroupRuleNotFound");
    // Rules cannot be updated: the path answers 405 with an Allow header (the shared HTTP layer's rule).
    neutronError(
      await c.req("PUT", `${R}/${rule.id}`, { token: m.token, body: { security_group_rule: {} } }),
      405,
    );
  });

  test("duplicates are 409 SecurityGroupRuleExists: by name or number, 0.0.0.0/0 or no prefix, racing creates", async () => {
    const first = await add({ protocol: "udp", port_range_min: 53, port_range_max: 53 });
    assert.equal(first.status, 201, first.text);
    const id = first.body.security_group_rule.id;
    for (const dup of [
      { protocol: "udp", port_range_min: 53, port_range_max: 53 },
      { protocol: "17", port_range_min: 53, port_range_max: 53 },
      { protocol: "UDP", port_range_min: 53, port_range_max: 53, remote_ip_prefix: "0.0.0.0/0" },
    ]) {
      const r = await add(dup);
      neutronError(r, 409, "SecurityGroupRuleExists");
      assert.match(r.body.NeutronError.message, new RegExp(id));
    }
    const rs = await Promise.all(
      [1, 2, 3, 4].map(() => add({ protocol: "tcp", port_range_min: 8080, port_range_max: 8080 })),
    );
    assert.equal(rs.filter((r) => r.status === 201).length, 1, rs.map((r) => r.text).join("\n"));
    for (const r of rs.filter((x) => x.status !== 201)) neutronError(r, 409, "SecurityGroupRuleExists");
  });

  test("protocols by name or number; ICMP type and code; IPv6 protocols need IPv6", async () => {
    const ok = async (rule: Record<string, unknown>, check?: (r: any) => void) => {
      const r = await add(rule);
      assert.equal(r.status, 201, `${JSON.stringify(rule)}: ${r.text}`);
      check?.(r.body.security_group_rule);
    };
    await ok({ protocol: "icmp", port_range_min: 8, port_range_max: 0 });
    await ok({ protocol: "icmp" });
    await ok({ protocol: "icmpv6", ethertype: "IPv6", port_range_min: 128 });
    await ok({ protocol: "ipv6-icmp", ethertype: "IPv6", port_range_min: 135 });
    await ok({ protocol: 47 }, (r) => assert.equal(r.protocol, "47"));
    await ok({ protocol: "vrrp" });
    await ok({ protocol: "any", ethertype: "IPv6", remote_ip_prefix: "2001:db8::1" }, (r) => {
      assert.equal(r.protocol, null);
      assert.equal(r.remote_ip_prefix, "2001:db8::1/128");
    });
    await ok(
      { protocol: "tcp", port_range_min: 1000, port_range_max: 2000, remote_ip_prefix: "10.1.2.3/16" },
      (r) => {
        // Kept as given, as Neutron keeps it (tempest's compute optional-cidr test reads it back through Nova);
        // normalized_cidr clears the host bits.
        assert.equal(r.remote_ip_prefix, "10.1.2.3/16");
        assert.equal(r.normalized_cidr, "10.1.0.0/16");
      },
    );
    // The same rule with the host bits cleared is a duplicate.
    neutronError(
      await add({
        protocol: "tcp",
        port_range_min: 1000,
        port_range_max: 2000,
        remote_ip_prefix: "10.1.0.0/16",
      }),
      409,
      "SecurityGroupRuleExists",
    );
    const bad = async (rule: Record<string, unknown>, type: string) =>
      neutronError(await add(rule), 400, type);
    await bad({ protocol: "nope" }, "SecurityGroupRuleInvalidProtocol");
    await bad({ protocol: "256" }, "SecurityGroupRuleInvalidProtocol");
    await bad({ protocol: -1 }, "SecurityGroupRuleInvalidProtocol");
    await bad({ port_range_min: 22, port_range_max: 22 }, "SecurityGroupProtocolRequiredWithPorts");
    await bad({ protocol: "tcp", port_range_min: 30, port_range_max: 20 }, "SecurityGroupInvalidPortRange");
    await bad({ protocol: "tcp", port_range_min: 22 }, "SecurityGroupInvalidPortRange");
    await bad({ protocol: "tcp", port_range_min: 0, port_range_max: 20 }, "SecurityGroupInvalidPortValue");
    await bad({ protocol: "icmp", port_range_min: 256 }, "SecurityGroupInvalidIcmpValue");
    // Out of 0-65535 (or not a number): Neutron's "Invalid value for port X" (tempest's invalid-ports test).
    for (const [min, max, text] of [
      [-16, 80, "Invalid value for port -16"],
      [80, 65536, "Invalid value for port 65536"],
      ["x", 80, "Invalid value for port x"],
    ] as const) {
      const r = await add({ protocol: "tcp", port_range_min: min, port_range_max: max });
      neutronError(r, 400, "SecurityGroupInvalidPortValue");
      assert.equal(r.body.NeutronError.message, text);
    }
    neutronError(await add({ protocol: "icmp", port_range_min: -1, port_range_max: 25 }), 400);
    // A remote group that does not exist, malformed id or not, is 404 (tempest's non-existent remote group test).
    for (const remote of ["bad_group_id", "0b0c3a52-9f6e-4d2f-8a55-5a1c0e6d9f00"])
      neutronError(await add({ protocol: "tcp", remote_group_id: remote }), 404, "SecurityGroupNotFound");
    await bad({ protocol: "icmp", port_range_max: 3 }, "SecurityGroupMissingIcmpType");
    await bad(
      { protocol: "gre", port_range_min: 1, port_range_max: 2 },
      "SecurityGroupInvalidProtocolForPort",
    );
    await bad({ protocol: "icmpv6" }, "SecurityGroupEthertypeConflictWithProtocol");
    await bad({ remote_ip_prefix: "fe80::/64" }, "SecurityGroupRuleParameterConflict");
    await bad({ ethertype: "IPv6", remote_ip_prefix: "10.0.0.0/8" }, "SecurityGroupRuleParameterConflict");
    await bad(
      { remote_ip_prefix: "10.0.0.0/8", remote_group_id: gid },
      "SecurityGroupRemoteGroupAndRemoteIpPrefix",
    );
    neutronError(await add({ remote_ip_prefix: "10.0.0.300/8" }), 400);
    neutronError(await add({ direction: "sideways" }), 400);
    neutronError(await add({ ethertype: "IPv5" }), 400);
    neutronError(await add({ protocol: "tcp", port_range_min: 70000, port_range_max: 70000 }), 400);
    neutronError(
      await c.req("POST", R, { token: m.token, body: { security_group_rule: { security_group_id: gid } } }),
      400,
    );
  });

  test("remote groups: own groups only; deleting a group removes the rules naming it", async () => {
    const peer = (await c.req("POST", SG, { token: m.token, body: { security_group: { name: "peer" } } }))
      .body.security_group.id;
    const r = await add({
      protocol: "tcp",
      port_range_min: 5432,
      port_range_max: 5432,
      remote_group_id: peer,
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.security_group_rule.remote_group_id, peer);
    const other = await c.user("r-foreign");
    const foreign = (await c.req("POST", SG, { token: other.token, body: { security_group: { name: "f" } } }))
      .body.security_group.id;
    neutronError(await add({ protocol: "tcp", remote_group_id: foreign }), 404, "SecurityGroupNotFound");
    assert.equal((await c.req("DELETE", `${SG}/${peer}`, { token: m.token })).status, 204);
    neutronError(await c.req("GET", `${R}/${r.body.security_group_rule.id}`, { token: m.token }), 404);
  });

  test("quota: security_group_rule counted; a bulk create is all or nothing", async () => {
    const u = await c.user("r-quota");
    const g = (await c.req("POST", SG, { token: u.token, body: { security_group: { name: "q" } } })).body
      .security_group.id;
    // default (4 rules) + q (2 rules) = 6 used.
    await c.ok("PUT", `/v2.0/quotas/${u.project}`, 200, { body: { quota: { security_group_rule: 8 } } });
    const rule = (port: number) => ({
      security_group_id: g,
      direction: "ingress",
      protocol: "tcp",
      port_range_min: port,
      port_range_max: port,
    });
    neutronError(
      await c.req("POST", R, { token: u.token, body: { security_group_rules: [rule(1), rule(2), rule(3)] } }),
      409,
      "OverQuota",
    );
    const bulk = await c.req("POST", R, {
      token: u.token,
      body: { security_group_rules: [rule(1), rule(2)] },
    });
    assert.equal(bulk.status, 201, bulk.text);
    assert.equal(bulk.body.security_group_rules.length, 2);
    neutronError(
      await c.req("POST", R, { token: u.token, body: { security_group_rule: rule(3) } }),
      409,
      "OverQuota",
    );
    const listed = (await c.req("GET", `${R}?security_group_id=${g}`, { token: u.token })).body
      .security_group_rules;
    assert.equal(listed.length, 4);
  });

  test("an admin adds a rule to a project's group: the group's owner sees and deletes it", async () => {
    const r = await c.req("POST", R, {
      token: c.admin,
      body: {
        security_group_rule: {
          security_group_id: gid,
          direction: "egress",
          protocol: "tcp",
          port_range_min: 25,
          port_range_max: 25,
        },
      },
    });
    assert.equal(r.status, 201, r.text);
    const id = r.body.security_group_rule.id;
    assert.ok(
      (await c.req("GET", R, { token: m.token })).body.security_group_rules.some((x: any) => x.id === id),
    );
    assert.equal((await c.req("DELETE", `${R}/${id}`, { token: m.token })).status, 204);
  });

  test("what an agent hands its driver: a group's rules, and the member addresses of the remote groups", async () => {
    const u = await c.user("r-spec");
    const web = (await c.req("POST", SG, { token: u.token, body: { security_group: { name: "web" } } })).body
      .security_group.id;
    const db = (await c.req("POST", SG, { token: u.token, body: { security_group: { name: "db" } } })).body
      .security_group.id;
    const rule = await c.req("POST", R, {
      token: u.token,
      body: {
        security_group_rule: {
          security_group_id: db,
          direction: "ingress",
          protocol: "tcp",
          port_range_min: 5432,
          port_range_max: 5432,
          remote_group_id: web,
        },
      },
    });
    assert.equal(rule.status, 201, rule.text);
    const net = (await c.req("POST", "/v2.0/networks", { token: u.token, body: { network: { name: "s" } } }))
      .body.network;
    await c.req("POST", "/v2.0/subnets", {
      token: u.token,
      body: { subnet: { network_id: net.id, ip_version: 4, cidr: "10.88.0.0/24" } },
    });
    const port = (
      await c.req("POST", "/v2.0/ports", {
        token: u.token,
        body: {
          port: {
            network_id: net.id,
            security_groups: [web],
            allowed_address_pairs: [{ ip_address: "10.88.1.0/24" }],
          },
        },
      })
    ).body.port;
    const specs = await securityGroupSpecs(c.t.cloud.network.core, [db]);
    assert.deepEqual([...specs.keys()].sort(), [db, web].sort());
    const dbSpec = specs.get(db)!;
    assert.equal(dbSpec.stateful, true);
    assert.ok(
      dbSpec.rules.some(
        (r) =>
          r.remoteGroupId === web &&
          r.protocol === "tcp" &&
          r.portRangeMin === 5432 &&
          r.direction === "ingress",
      ),
    );
    assert.deepEqual(specs.get(web)!.members, [port.fixed_ips[0].ip_address, "10.88.1.0/24"].sort());
    assert.deepEqual(dbSpec.members, []);
  });

  test("the agent reapplies a port's groups when their rules change or a remote group's members do", async () => {
    const driver = c.t.cloud.network.localAgent!.deps.driver as NoopDriver;
    const web = (await c.req("POST", SG, { token: c.admin, body: { security_group: { name: "aw" } } })).body
      .security_group.id;
    const db = (await c.req("POST", SG, { token: c.admin, body: { security_group: { name: "ad" } } })).body
      .security_group.id;
    await c.ok("POST", R, 201, {
      body: { security_group_rule: { security_group_id: db, direction: "ingress", remote_group_id: web } },
    });
    const net = (await c.ok("POST", "/v2.0/networks", 201, { body: { network: { name: "ag" } } })).network;
    await c.ok("POST", "/v2.0/subnets", 201, {
      body: { subnet: { network_id: net.id, ip_version: 4, cidr: "10.89.0.0/24" } },
    });
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: { port: { network_id: net.id, security_groups: [db], "binding:host_id": "compute1" } },
      })
    ).port;
    await until("plugged", () => driver.ports.has(port.id));
    // Forget it in the driver: only a replug brings it back.
    driver.ports.delete(port.id);
    await c.ok("POST", R, 201, {
      body: { security_group_rule: { security_group_id: db, direction: "ingress", protocol: "tcp" } },
    });
    await until("a rule change replugs the group's ports", () => driver.ports.has(port.id));
    driver.ports.delete(port.id);
    await c.ok("POST", "/v2.0/ports", 201, {
      body: { port: { network_id: net.id, security_groups: [web] } },
    });
    await until("a new member of the remote group replugs the referring group's ports", () =>
      driver.ports.has(port.id),
    );
  });
});
