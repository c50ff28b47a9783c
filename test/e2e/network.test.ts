// End to end for the Network service: `bin/stratus up` as a child process, driven by the real OpenStack CLI
// (Debian's python3-openstackclient 6.0.0): network, subnet and port create/list/show/set/delete, security groups
// and rules, network RBAC, quotas (quota show lists the network quotas beside compute's), agents, availability zones, IP availability.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  killStratus,
  openstack,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";

describe(`openstack CLI: networks, subnets, ports, security groups, RBAC, quotas${process.env.STRATUS_TEST_BUS ? " (RabbitMQ)" : ""}`, () => {
  let s: StratusProcess;
  before(async () => {
    // network-amqp.test.ts runs this suite again with the cloud on RabbitMQ.
    const bus = process.env.STRATUS_TEST_BUS;
    s = await startStratus("stratus-e2e-network-", { args: bus ? ["--bus", bus] : [] });
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
  });

  /** Run the CLI (JSON output unless `json` is false); assert it succeeded. */
  const ok = async (args: string[], cloud = "stratus-admin", json = true): Promise<any> => {
    const r = await openstack(s, [...args, ...(json ? ["-f", "json"] : [])], cloud);
    assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}`);
    return json && r.stdout.trim() ? JSON.parse(r.stdout) : r.stdout;
  };
  const fails = async (args: string[], cloud: string, pattern: RegExp) => {
    const r = await openstack(s, args, cloud);
    assert.notEqual(r.code, 0, `openstack ${args.join(" ")} should fail`);
    assert.match(r.stderr, pattern);
  };

  test("network list: the start-up topology (public external, the demo's private)", async () => {
    const admin = await ok(["network", "list", "--long"]);
    const pub = admin.find((n: { Name: string }) => n.Name === "public");
    assert.equal(pub["Router Type"], true, "External in the table; true as JSON");
    assert.equal(pub.Project, (await ok(["project", "show", "admin"])).id);
    const demo = (await ok(["network", "list"], "stratus-demo")).map((n: { Name: string }) => n.Name).sort();
    assert.deepEqual(demo, ["private", "public"]);
    const sub = await ok(["subnet", "show", "private-subnet"], "stratus-demo");
    assert.equal(sub.cidr, "10.0.0.0/26");
  });

  test("network create, show, set, list filters, delete", async () => {
    const n = await ok(["network", "create", "--description", "e2e", "e2e-net"], "stratus-demo");
    assert.equal(n.name, "e2e-net");
    assert.equal(n.mtu, 1450);
    assert.equal(n.status, "ACTIVE");
    const shown = await ok(["network", "show", "e2e-net"]);
    assert.equal(shown["provider:network_type"], "vxlan");
    assert.equal(shown.id, n.id);
    await ok(
      ["network", "set", "--name", "e2e-net2", "--mtu", "1400", "--tag", "blue", "e2e-net"],
      "stratus-demo",
      false,
    );
    const set = await ok(["network", "show", "e2e-net2"], "stratus-demo");
    assert.equal(set.mtu, 1400);
    assert.deepEqual(set.tags, ["blue"]);
    assert.ok(
      !("provider:network_type" in set) || set["provider:network_type"] === null,
      "provider attributes are hidden",
    );
    const tagged = await ok(["network", "list", "--tags", "blue"], "stratus-demo");
    assert.deepEqual(
      tagged.map((x: { Name: string }) => x.Name),
      ["e2e-net2"],
    );
    await fails(
      ["network", "create", "--provider-network-type", "flat", "--provider-physical-network", "x", "nope"],
      "stratus-demo",
      /403|disallowed by policy/,
    );
    await ok(["network", "delete", "e2e-net2"], "stratus-demo", false);
    await fails(["network", "show", "e2e-net2"], "stratus-demo", /No Network found|could not be found/);
  });

  test("admin provider networks: flat and VLAN with a chosen id", async () => {
    const flat = await ok([
      "network",
      "create",
      "--provider-network-type",
      "flat",
      "--provider-physical-network",
      "physnet7",
      "--external",
      "e2e-flat",
    ]);
    assert.equal(flat["provider:network_type"], "flat");
    assert.equal(flat["router:external"], true);
    const vlan = await ok([
      "network",
      "create",
      "--provider-network-type",
      "vlan",
      "--provider-physical-network",
      "physnet1",
      "--provider-segment",
      "1234",
      "e2e-vlan",
    ]);
    assert.equal(vlan["provider:segmentation_id"], 1234);
    await ok(["network", "delete", "e2e-flat", "e2e-vlan"], "stratus-admin", false);
  });

  test("subnet create (IPv4 and IPv6 SLAAC), show, set, list; port create, show, set, list, delete", async () => {
    await ok(["network", "create", "e2e-ports"], "stratus-demo");
    const v4 = await ok(
      [
        "subnet",
        "create",
        "--network",
        "e2e-ports",
        "--subnet-range",
        "192.168.77.0/24",
        "--dns-nameserver",
        "192.168.77.53",
        "--allocation-pool",
        "start=192.168.77.10,end=192.168.77.99",
        "e2e-v4",
      ],
      "stratus-demo",
    );
    assert.equal(v4.gateway_ip, "192.168.77.1");
    assert.deepEqual(v4.allocation_pools, [{ start: "192.168.77.10", end: "192.168.77.99" }]);
    const v6 = await ok(
      [
        "subnet",
        "create",
        "--network",
        "e2e-ports",
        "--ip-version",
        "6",
        "--subnet-range",
        "fd00:77::/64",
        "--ipv6-ra-mode",
        "slaac",
        "--ipv6-address-mode",
        "slaac",
        "e2e-v6",
      ],
      "stratus-demo",
    );
    assert.equal(v6.ipv6_address_mode, "slaac");
    await ok(
      [
        "subnet",
        "set",
        "--name",
        "e2e-v4b",
        "--host-route",
        "destination=10.123.0.0/16,gateway=192.168.77.254",
        "e2e-v4",
      ],
      "stratus-demo",
      false,
    );
    const sv = await ok(["subnet", "show", "e2e-v4b"], "stratus-demo");
    assert.deepEqual(sv.host_routes, [{ destination: "10.123.0.0/16", nexthop: "192.168.77.254" }]);
    const subnets = (await ok(["subnet", "list", "--network", "e2e-ports"], "stratus-demo"))
      .map((x: { Name: string }) => x.Name)
      .sort();
    assert.deepEqual(subnets, ["e2e-v4b", "e2e-v6"]);

    const p = await ok(
      [
        "port",
        "create",
        "--network",
        "e2e-ports",
        "--fixed-ip",
        "subnet=e2e-v4b,ip-address=192.168.77.20",
        "e2e-port",
      ],
      "stratus-demo",
    );
    const ips = p.fixed_ips.map((f: { ip_address: string }) => f.ip_address);
    assert.ok(ips.includes("192.168.77.20"), JSON.stringify(ips));
    assert.ok(
      ips.some((ip: string) => ip.startsWith("fd00:77::")),
      "the SLAAC address too",
    );
    assert.match(p.mac_address, /^fa:16:3e:/);
    await ok(
      [
        "port",
        "set",
        "--name",
        "e2e-port2",
        "--fixed-ip",
        "subnet=e2e-v4b",
        "--allowed-address",
        "ip-address=192.168.77.200",
        "e2e-port",
      ],
      "stratus-demo",
      false,
    );
    const shown = await ok(["port", "show", "e2e-port2"], "stratus-demo");
    assert.equal(shown.fixed_ips.filter((f: { subnet_id: string }) => f.subnet_id === v4.id).length, 2);
    assert.deepEqual(shown.allowed_address_pairs, [
      { ip_address: "192.168.77.200", mac_address: p.mac_address },
    ]);
    const bound = await ok(["port", "set", "--host", "nowhere", "e2e-port2"], "stratus-admin", false);
    assert.equal(bound, "");
    assert.equal((await ok(["port", "show", "e2e-port2"])).binding_vif_type, "binding_failed");
    const listed = await ok(["port", "list", "--network", "e2e-ports"], "stratus-demo");
    assert.deepEqual(
      listed.map((x: { Name: string }) => x.Name),
      ["e2e-port2"],
    );
    await fails(
      ["port", "create", "--network", "e2e-ports", "--fixed-ip", "ip-address=192.168.77.20", "dup"],
      "stratus-demo",
      /already allocated|Conflict/,
    );
    await fails(["network", "delete", "e2e-ports"], "stratus-demo", /still in use|Conflict/);
    await ok(["port", "delete", "e2e-port2"], "stratus-demo", false);
    await ok(["network", "delete", "e2e-ports"], "stratus-demo", false);
  });

  test("security group create, list, show, set, delete; rule create (tcp 22, remote group, IPv6), list, delete", async () => {
    const demo = "stratus-demo";
    const groups = (await ok(["security", "group", "list"], demo)).map((g: { Name: string }) => g.Name);
    assert.deepEqual(groups, ["default"], "the demo project's default group, made on first use");
    const g = await ok(["security", "group", "create", "--description", "web tier", "e2e-web"], demo);
    assert.equal(g.name, "e2e-web");
    assert.equal(g.description, "web tier");
    const ssh = await ok(
      [
        "security",
        "group",
        "rule",
        "create",
        "--protocol",
        "tcp",
        "--dst-port",
        "22",
        "--remote-ip",
        "0.0.0.0/0",
        "e2e-web",
      ],
      demo,
    );
    assert.equal(ssh.protocol, "tcp");
    assert.equal(ssh.port_range_min, 22);
    assert.equal(ssh.port_range_max, 22);
    assert.equal(ssh.remote_ip_prefix, "0.0.0.0/0");
    assert.equal(ssh.direction, "ingress");
    const fromDefault = await ok(
      [
        "security",
        "group",
        "rule",
        "create",
        "--protocol",
        "tcp",
        "--dst-port",
        "80:81",
        "--remote-group",
        "default",
        "e2e-web",
      ],
      demo,
    );
    const defaultId = (await ok(["security", "group", "show", "default"], demo)).id;
    assert.equal(fromDefault.remote_group_id, defaultId);
    assert.equal(fromDefault.port_range_max, 81);
    const v6 = await ok(
      ["security", "group", "rule", "create", "--ethertype", "IPv6", "--protocol", "ipv6-icmp", "e2e-web"],
      demo,
    );
    assert.equal(v6.ether_type, "IPv6");
    await fails(
      [
        "security",
        "group",
        "rule",
        "create",
        "--protocol",
        "tcp",
        "--dst-port",
        "22",
        "--remote-ip",
        "0.0.0.0/0",
        "e2e-web",
      ],
      demo,
      /already exists|409|Conflict/,
    );
    const rules = await ok(["security", "group", "rule", "list", "e2e-web"], demo);
    assert.equal(rules.length, 5, "two egress rules of a new group and the three added");
    assert.ok(rules.some((r: { ID: string }) => r.ID === ssh.id));
    await ok(
      ["security", "group", "set", "--name", "e2e-web2", "--description", "changed", "e2e-web"],
      demo,
      false,
    );
    const shown = await ok(["security", "group", "show", "e2e-web2"], demo);
    assert.equal(shown.description, "changed");
    assert.equal(shown.id, g.id);
    await ok(["security", "group", "rule", "delete", ssh.id], demo, false);
    await fails(
      ["security", "group", "rule", "show", ssh.id],
      demo,
      /could not be found|does not exist|No SecurityGroupRule/,
    );
    await fails(["security", "group", "delete", "default"], demo, /default security group|409|Conflict/);
    await ok(["security", "group", "delete", "e2e-web2"], demo, false);
    await fails(
      ["security", "group", "show", "e2e-web2"],
      demo,
      /No SecurityGroup found|could not be found|does not exist/,
    );
  });

  test("network rbac create, list, show, set, delete: a project sees the network shared with it", async () => {
    await ok(["network", "create", "e2e-shared"]);
    const grant = await ok([
      "network",
      "rbac",
      "create",
      "--target-project",
      "demo",
      "--action",
      "access_as_shared",
      "--type",
      "network",
      "e2e-shared",
    ]);
    assert.equal(grant.action, "access_as_shared");
    const demoProject = (await ok(["project", "show", "demo"])).id;
    assert.equal(grant.target_project_id, demoProject);
    assert.ok((await ok(["network", "rbac", "list"])).some((r: { ID: string }) => r.ID === grant.id));
    assert.equal((await ok(["network", "rbac", "show", grant.id])).object_type, "network");
    const seen = await ok(["network", "show", "e2e-shared"], "stratus-demo");
    assert.equal(seen.shared, true);
    const port = await ok(["port", "create", "--network", "e2e-shared", "demo-on-shared"], "stratus-demo");
    assert.ok(port.id);
    await fails(["network", "rbac", "delete", grant.id], "stratus-admin", /in use|Conflict/);
    await ok(["port", "delete", "demo-on-shared"], "stratus-demo", false);
    await ok(["network", "rbac", "set", "--target-project", "admin", grant.id], "stratus-admin", false);
    await fails(["network", "show", "e2e-shared"], "stratus-demo", /No Network found|could not be found/);
    await ok(["network", "rbac", "delete", grant.id], "stratus-admin", false);
    await ok(["network", "delete", "e2e-shared"], "stratus-admin", false);
  });

  test("routers: router1 at start-up; create, gateway, add/remove subnet, routes, show, delete", async () => {
    const demo = "stratus-demo";
    const r1 = await ok(["router", "show", "router1"], demo);
    const pubId = (await ok(["network", "show", "public"], demo)).id;
    assert.equal(r1.external_gateway_info.network_id, pubId);
    assert.equal(r1.interfaces_info.length, 1);
    assert.equal(r1.interfaces_info[0].ip_address, "10.0.0.1");

    await ok(["network", "create", "l3-net"], demo);
    await ok(["subnet", "create", "--network", "l3-net", "--subnet-range", "10.77.0.0/24", "l3-sub"], demo);
    const r = await ok(["router", "create", "l3-router"], demo);
    assert.equal(r.status, "ACTIVE");
    await ok(["router", "set", "--external-gateway", "public", "l3-router"], demo, false);
    await ok(["router", "add", "subnet", "l3-router", "l3-sub"], demo, false);
    await ok(
      ["router", "set", "--route", "destination=192.168.77.0/24,gateway=10.77.0.5", "l3-router"],
      demo,
      false,
    );
    const shown = await ok(["router", "show", "l3-router"], demo);
    assert.equal(shown.external_gateway_info.network_id, pubId);
    assert.match(shown.external_gateway_info.external_fixed_ips[0].ip_address, /^172\.24\.4\./);
    assert.deepEqual(shown.routes, [{ destination: "192.168.77.0/24", nexthop: "10.77.0.5" }]);
    assert.deepEqual(
      shown.interfaces_info.map((i: { ip_address: string }) => i.ip_address),
      ["10.77.0.1"],
    );
    await fails(["router", "delete", "l3-router"], demo, /RouterInUse|still has ports|409/);
    await fails(["subnet", "delete", "l3-sub"], demo, /409|in use|InUse/);

    // Floating IPs: create on public, associate with a port, port forwarding on another, unset, delete.
    const port = await ok(["port", "create", "--network", "l3-net", "l3-port"], demo);
    const fip = await ok(["floating", "ip", "create", "public"], demo);
    assert.match(fip.floating_ip_address, /^172\.24\.4\./);
    await fails(["floating", "ip", "create", "l3-net"], demo, /not a valid external network|400/);
    await ok(["floating", "ip", "set", "--port", "l3-port", fip.id], demo, false);
    const assoc = await ok(["floating", "ip", "show", fip.id], demo);
    assert.equal(assoc.port_id, port.id);
    assert.equal(assoc.router_id, r.id);
    assert.equal(assoc.fixed_ip_address, port.fixed_ips[0].ip_address);
    const fip2 = await ok(["floating", "ip", "create", "public"], demo);
    const pf = await ok(
      [
        "floating",
        "ip",
        "port",
        "forwarding",
        "create",
        "--internal-ip-address",
        port.fixed_ips[0].ip_address,
        "--port",
        "l3-port",
        "--internal-protocol-port",
        "22",
        "--external-protocol-port",
        "2222",
        "--protocol",
        "tcp",
        fip2.id,
      ],
      demo,
    );
    assert.equal(pf.external_port, 2222);
    const pfs = await ok(["floating", "ip", "port", "forwarding", "list", fip2.id], demo);
    assert.equal(pfs.length, 1);
    await ok(["floating", "ip", "port", "forwarding", "delete", fip2.id, pf.id], demo, false);
    await ok(["floating", "ip", "unset", "--port", fip.id], demo, false);
    assert.equal((await ok(["floating", "ip", "show", fip.id], demo)).port_id, null);
    await ok(["floating", "ip", "delete", fip.id, fip2.id], demo, false);

    await ok(["router", "set", "--no-route", "l3-router"], demo, false);
    await ok(["router", "remove", "subnet", "l3-router", "l3-sub"], demo, false);
    await ok(["router", "unset", "--external-gateway", "l3-router"], demo, false);
    await ok(["router", "delete", "l3-router"], demo, false);
    await fails(["router", "show", "l3-router"], demo, /No Router found|404|not found/i);
  });

  test("quota show lists the network quotas; quota set changes them; agents, zones, IP availability", async () => {
    await ok(
      ["quota", "set", "--networks", "7", "--ports", "33", "--subnets", "9", "demo"],
      "stratus-admin",
      false,
    );
    const q = await ok(["quota", "show", "demo"]);
    assert.equal(q.networks, 7);
    assert.equal(q.ports, 33);
    assert.equal(q.subnets, 9);
    assert.equal(q.instances, 10, "compute's quotas are still there");
    const detail = await ok(["quota", "list", "--network", "--detail", "--project", "demo"]);
    assert.ok(
      detail.some((r: { Resource: string; Limit: number }) => r.Resource === "networks" && r.Limit === 7),
    );
    await fails(["quota", "set", "--networks", "70", "demo"], "stratus-demo", /403|Forbidden/);
    const agents = await ok(["network", "agent", "list"]);
    assert.equal(agents.length, 1);
    assert.equal(agents[0]["Agent Type"], "Stratus network agent");
    assert.equal(agents[0].Alive, true);
    assert.deepEqual(await ok(["availability", "zone", "list", "--network"]), [
      { "Zone Name": "nova", "Zone Status": "available" },
    ]);
    const avail = await ok(["ip", "availability", "list"]);
    assert.ok(
      avail.some(
        (a: { "Network Name": string; "Total IPs": number }) =>
          a["Network Name"] === "public" && a["Total IPs"] === 253,
      ),
    );
    const ext = (await ok(["extension", "list", "--network"])).map((e: { Alias: string }) => e.Alias);
    for (const a of ["quotas", "rbac-policies", "router", "security-group"]) assert.ok(ext.includes(a), a);
    assert.ok(!ext.includes("dhcp_agent_scheduler"), "only what is implemented is listed");
  });
});
