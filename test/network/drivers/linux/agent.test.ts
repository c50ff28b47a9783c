// The linux data plane end to end from the database (real kernel, as root): an in-process cloud (its own agent is
// noop) plus a network-node agent with the linux driver whose "host" is a lab namespace. Resources made through
// the API must appear in the kernel (bridge, tap with the network's MTU, dnsmasq serving the ports, per-port
// iptables chains, router namespace with the floating IP's NAT, the public namespace), follow changes, survive an
// agent restart without flapping, carry traffic (a busybox guest gets its lease, pings its router and is pinged
// through its floating IP from the public namespace; `stratus public-exec` reaches it too), and leave nothing
// behind once deleted.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { NetworkAgent } from "../../../../src/network/agent/agent.js";
import { dhcpPaths } from "../../../../src/network/drivers/linux/dhcp.js";
import { LinuxDriver } from "../../../../src/network/drivers/linux/driver.js";
import { run } from "../../../../src/network/drivers/linux/exec.js";
import { cloudNetIdentity } from "../../../../src/network/drivers/linux/identity.js";
import { getLink, listLinks } from "../../../../src/network/drivers/linux/ip.js";
import { listNamespaces } from "../../../../src/network/drivers/linux/ip-netns.js";
import { bridgeName, routerNamespace, tapName } from "../../../../src/network/drivers/linux/names.js";
import { publicLinkName } from "../../../../src/network/drivers/linux/public-link.js";
import { ROOT } from "../../../helpers/stratus-process.js";
import { until } from "../../../helpers/wait.js";
import { bootNetwork, type NetCloud } from "../../helpers.js";
import { Lab, processesMentioning, SKIP_KERNEL, type Guest } from "./lab.js";

// A UDP-Lite echo (Python: node has no UDP-Lite sockets) and a client printing the answer or TIMEOUT.
const PYTHON = "/usr/bin/python3";
const UDPLITE_ECHO = `import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
s.bind(("0.0.0.0", int(sys.argv[1])))
print("listening", flush=True)
while True:
    d, a = s.recvfrom(100)
    s.sendto(b"udplite " + d + b" from " + a[0].encode(), a)`;
const UDPLITE_ASK = `import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, 136)
s.settimeout(float(sys.argv[3]))
s.sendto(b"hi", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("TIMEOUT")`;
/** The public namespace's addresses (the source the guest sees: traffic from outside keeps its address). */
const publicAddrRe = "172\\.24\\.4\\.";

/** Poll every 250 ms (these checks run tools) until `fn` is truthy; fail naming `what`. */
const waitFor = <T>(what: string, fn: () => Promise<T> | T, ms = 60_000) => until(what, fn, ms, 250);

describe("linux data plane from the database", { skip: SKIP_KERNEL }, () => {
  let lab: Lab;
  let c: NetCloud;
  let hostNs: string;
  let stateDir: string;
  let prefix: string;
  let publicNs: string;
  let driver: LinuxDriver;
  let agent: NetworkAgent | null = null;
  let hostName: string;
  const ids: Record<string, string> = {};
  let guest: Guest;

  let tag: string;
  const newDriver = () => new LinuxDriver({ prefix, stateDir, hostNetns: hostNs, firewallTag: tag });
  const startAgent = async () => {
    driver = newDriver();
    const { core } = c.t.cloud.network;
    agent = await NetworkAgent.start({
      core,
      bus: c.t.cloud.bus,
      host: hostName,
      driver,
      log: c.t.cloud.log,
      networkNode: true,
    });
  };
  const ipt = async (ns: string, table: string) =>
    (await run(["iptables-save", "-c", "-t", table], { netns: ns })).stdout
      .split("\n")
      .filter((l) => l.includes("stratus"))
      .join("\n");
  const routerNs = () => routerNamespace(prefix, ids.router);
  const dnsmasqPid = () => {
    const f = dhcpPaths(driver.host, ids.net).pid;
    return existsSync(f) ? readFileSync(f, "utf8").trim() : null;
  };

  before(async () => {
    lab = new Lab();
    const host = await lab.host("h");
    hostNs = host.netns!;
    stateDir = host.stateDir;
    hostName = `lh${lab.marker}`;
    c = await bootNetwork();
    // The cloud's identity (as `stratus up` derives it), so `stratus public-exec --data-dir` finds this cloud.
    const id = cloudNetIdentity(c.t.dataDir);
    prefix = id.prefix;
    publicNs = id.publicNetns;
    tag = id.firewallTag;
    await startAgent();
  });

  after(async () => {
    await agent?.close().catch(() => undefined);
    await newDriver()
      .wipe()
      .catch(() => undefined);
    await c?.close();
    await lab?.close();
  });

  test("the start-up topology is real: public namespace with its gateway, router1, DHCP of private", async () => {
    const pub = await waitFor("the public namespace", async () =>
      (await listNamespaces()).includes(publicNs),
    );
    assert.ok(pub);
    const addrs = (await run(["ip", "-o", "addr"], { netns: publicNs })).stdout;
    assert.match(addrs, /172\.24\.4\.1\/24/);
    const routers = (await c.ok("GET", "/v2.0/routers?name=router1", 200)).routers;
    assert.equal(routers.length, 1);
    assert.ok((await listNamespaces()).includes(routerNamespace(prefix, routers[0].id)));
    const priv = (await c.ok("GET", "/v2.0/networks?name=private", 200)).networks[0];
    const dhcpPort = (await c.ok("GET", `/v2.0/ports?network_id=${priv.id}&device_owner=network:dhcp`, 200))
      .ports;
    assert.equal(dhcpPort.length, 1);
    assert.equal(dhcpPort[0].status, "ACTIVE");
    assert.ok(existsSync(dhcpPaths(driver.host, priv.id).pid));
  });

  test("network, subnet, bound port, router, floating IP and rules become kernel state", async () => {
    const net = (await c.ok("POST", "/v2.0/networks", 201, { body: { network: { name: `n${lab.marker}` } } }))
      .network;
    ids.net = net.id;
    ids.subnet = (
      await c.ok("POST", "/v2.0/subnets", 201, {
        body: {
          subnet: {
            network_id: net.id,
            ip_version: 4,
            cidr: "10.99.0.0/24",
            dns_nameservers: ["10.99.0.53"],
            host_routes: [{ destination: "10.98.0.0/24", nexthop: "10.99.0.254" }],
          },
        },
      })
    ).subnet.id;
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: {
          port: {
            network_id: net.id,
            "binding:host_id": hostName,
            extra_dhcp_opts: [{ opt_name: "bootfile-name", opt_value: "pxelinux.0" }],
          },
        },
      })
    ).port;
    ids.port = port.id;
    // The binding contract with the QEMU driver.
    assert.equal(port["binding:vif_type"], "tap");
    assert.deepEqual(port["binding:vif_details"], {
      connectivity: "l2",
      port_filter: true,
      tap_name: `tap${port.id.slice(0, 11)}`,
      bridge_name: `brq${net.id.slice(0, 11)}`,
    });
    await waitFor(
      "the port ACTIVE",
      async () => (await c.ok("GET", `/v2.0/ports/${port.id}`, 200)).port.status === "ACTIVE",
    );
    const tap = await getLink(hostNs, tapName(port.id));
    assert.equal(tap?.linkinfo?.info_kind, "tun");
    assert.equal(tap?.linkinfo?.info_data?.type, "tap");
    assert.equal(tap?.master, bridgeName(net.id));
    assert.equal(tap?.mtu, net.mtu);
    assert.equal((await getLink(hostNs, bridgeName(net.id)))?.mtu, net.mtu);
    // dnsmasq serves the port (hosts file) with its option (opts file).
    const paths = dhcpPaths(driver.host, net.id);
    await waitFor("dnsmasq serving the port", () =>
      existsSync(paths.hosts) ? readFileSync(paths.hosts, "utf8").includes(port.mac_address) : false,
    );
    assert.ok(dnsmasqPid());
    assert.match(readFileSync(paths.opts, "utf8"), /pxelinux\.0/);
    // The port's firewall chains.
    const short = port.id.slice(0, 11);
    await waitFor("the port's chains", async () =>
      (await ipt(hostNs, "filter")).includes(`stratus-${tag}-i${short}`),
    );

    // A router with a gateway on public and an interface on the subnet; a guest port (not bound here: the lab
    // plugs a busybox namespace in its place) with a floating IP.
    const pub = (await c.ok("GET", "/v2.0/networks?name=public", 200)).networks[0];
    ids.public = pub.id;
    ids.router = (
      await c.ok("POST", "/v2.0/routers", 201, {
        body: { router: { name: `r${lab.marker}`, external_gateway_info: { network_id: pub.id } } },
      })
    ).router.id;
    await c.ok("PUT", `/v2.0/routers/${ids.router}/add_router_interface`, 200, {
      body: { subnet_id: ids.subnet },
    });
    const g = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: { port: { network_id: net.id, port_security_enabled: false } },
      })
    ).port;
    ids.guestPort = g.id;
    ids.guestIp = g.fixed_ips[0].ip_address;
    const fip = (
      await c.ok("POST", "/v2.0/floatingips", 201, {
        body: { floatingip: { floating_network_id: pub.id, port_id: g.id } },
      })
    ).floatingip;
    ids.fip = fip.id;
    ids.fipIp = fip.floating_ip_address;
    await waitFor("the router's NAT for the floating IP", async () => {
      if (!(await listNamespaces()).includes(routerNs())) return false;
      return (await ipt(routerNs(), "nat")).includes(
        `-d ${ids.fipIp}/32 -j DNAT --to-destination ${ids.guestIp}`,
      );
    });
    assert.ok((await listNamespaces()).includes(publicNs));
    const routerPorts = (await c.ok("GET", `/v2.0/ports?device_id=${ids.router}`, 200)).ports;
    assert.equal(routerPorts.length, 2);
    await waitFor("the router's ports ACTIVE", async () =>
      (await c.ok("GET", `/v2.0/ports?device_id=${ids.router}`, 200)).ports.every(
        (p: { status: string }) => p.status === "ACTIVE",
      ),
    );
  });

  test("traffic: the guest gets its lease, pings its router, and is reached through its floating IP", async () => {
    const g = (await c.ok("GET", `/v2.0/ports/${ids.guestPort}`, 200)).port;
    await waitFor("dnsmasq knows the guest", () =>
      readFileSync(dhcpPaths(driver.host, ids.net).hosts, "utf8").includes(g.mac_address),
    );
    guest = await lab.guest("g1", driver.host, bridgeName(ids.net), g.id, g.mac_address, 1450);
    const lease = await guest.dhcp();
    assert.ok(lease, "no DHCP lease");
    assert.equal(lease.get("ip"), ids.guestIp);
    assert.equal(lease.get("router"), "10.99.0.1");
    assert.equal(lease.get("dns"), "10.99.0.53");
    await guest.address([`${ids.guestIp}/24`], "10.99.0.1");
    // Regression: an update of a port not bound here must not delete a same-named device the driver did not make.
    await c.ok("PUT", `/v2.0/ports/${g.id}`, 200, {
      body: { port: { extra_dhcp_opts: [{ opt_name: "tftp-server", opt_value: "10.99.0.9" }] } },
    });
    await waitFor("the update applied", () =>
      readFileSync(dhcpPaths(driver.host, ids.net).opts, "utf8").includes("10.99.0.9"),
    );
    assert.equal((await getLink(hostNs, tapName(g.id)))?.linkinfo?.info_kind, "veth");
    assert.ok(await guest.ping("10.99.0.1"), "the guest does not reach its router");
    const r = await run(["busybox", "ping", "-c", "1", "-W", "5", ids.fipIp], {
      netns: publicNs,
      okCodes: [0, 1],
    });
    assert.equal(r.code, 0, `the public namespace does not reach the floating IP: ${r.stdout}`);
  });

  test("DHCP on the external network: a guest on public gets its address from the public namespace's dnsmasq", async () => {
    const pub = ids.public;
    const subnet = (await c.ok("GET", `/v2.0/subnets?network_id=${pub}`, 200)).subnets[0];
    assert.equal(subnet.enable_dhcp, false);
    await c.ok("PUT", `/v2.0/subnets/${subnet.id}`, 200, { body: { subnet: { enable_dhcp: true } } });
    const dhcpPorts = async () =>
      (await c.ok("GET", `/v2.0/ports?network_id=${pub}&device_owner=network:dhcp`, 200)).ports;
    const dhcpPort = await waitFor("the public network's DHCP port ACTIVE", async () => {
      const [p] = await dhcpPorts();
      return p?.status === "ACTIVE" ? p : null;
    });
    const paths = dhcpPaths(driver.host, pub);
    assert.ok(existsSync(paths.pid), "no dnsmasq for the public network");
    // Its near end is in the public namespace's bridge; the host namespace has no bridge for public.
    assert.equal((await getLink(publicNs, tapName(dhcpPort.id)))?.master, bridgeName(pub));
    assert.equal(await getLink(hostNs, bridgeName(pub)), null);

    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: { port: { network_id: pub, port_security_enabled: false } },
      })
    ).port;
    await waitFor("dnsmasq knows the public port", () =>
      readFileSync(paths.hosts, "utf8").includes(port.mac_address),
    );
    const onPublic = await lab.guest(
      "pg",
      { ...driver.host, netns: publicNs },
      bridgeName(pub),
      port.id,
      port.mac_address,
    );
    const lease = await onPublic.dhcp();
    assert.ok(lease, "no DHCP lease on public");
    assert.equal(lease.get("ip"), port.fixed_ips[0].ip_address);
    assert.equal(lease.get("router"), subnet.gateway_ip);
    await onPublic.address([`${port.fixed_ips[0].ip_address}/${subnet.cidr.split("/")[1]}`]);
    assert.ok(await onPublic.ping(subnet.gateway_ip), "the public guest does not reach the public gateway");

    // DHCP off again: dnsmasq, its namespace and its port go; the tenant guest still gets out through its router.
    await run(["ip", "link", "del", tapName(port.id)], { netns: publicNs, okCodes: [0, 1] });
    await c.ok("DELETE", `/v2.0/ports/${port.id}`, 204);
    await c.ok("PUT", `/v2.0/subnets/${subnet.id}`, 200, { body: { subnet: { enable_dhcp: false } } });
    // (A namespace's devices go asynchronously after it is deleted: the DHCP port's end in public too.)
    await waitFor("the public network's DHCP gone", async () => {
      const nss = await listNamespaces();
      return (
        !existsSync(paths.pid) &&
        !nss.some((n) => n.endsWith(`qdhcp-${pub}`)) &&
        !(await dhcpPorts()).length &&
        (await getLink(publicNs, tapName(dhcpPort.id))) === null
      );
    });
    assert.ok(await guest.ping(subnet.gateway_ip), "the tenant guest lost its way out");
  });

  test("a compute port on public: its host bridge is linked to the public namespace (DHCP, gateway, reachable)", async () => {
    const pub = ids.public;
    const subnet = (await c.ok("GET", `/v2.0/subnets?network_id=${pub}`, 200)).subnets[0];
    await c.ok("PUT", `/v2.0/subnets/${subnet.id}`, 200, { body: { subnet: { enable_dhcp: true } } });
    const port = (
      await c.ok("POST", "/v2.0/ports", 201, {
        body: {
          port: {
            network_id: pub,
            "binding:host_id": hostName,
            device_owner: "compute:nova",
            port_security_enabled: false,
          },
        },
      })
    ).port;
    await waitFor(
      "the public port ACTIVE",
      async () => (await c.ok("GET", `/v2.0/ports/${port.id}`, 200)).port.status === "ACTIVE",
    );
    const link = publicLinkName(pub);
    assert.equal((await getLink(hostNs, tapName(port.id)))?.master, bridgeName(pub));
    assert.equal((await getLink(hostNs, link))?.master, bridgeName(pub));
    assert.equal((await getLink(publicNs, link))?.master, bridgeName(pub));
    await waitFor("dnsmasq knows the public port", () => {
      const hosts = dhcpPaths(driver.host, pub).hosts;
      return existsSync(hosts) && readFileSync(hosts, "utf8").includes(port.mac_address);
    });
    // A namespace guest in the tap's place, as QEMU would open it.
    const onHost = await lab.guest("hp", driver.host, bridgeName(pub), port.id, port.mac_address);
    const ip = port.fixed_ips[0].ip_address;
    const lease = await onHost.dhcp();
    assert.ok(lease, "no DHCP lease for the compute port on public");
    assert.equal(lease.get("ip"), ip);
    await onHost.address([`${ip}/${subnet.cidr.split("/")[1]}`], subnet.gateway_ip);
    assert.ok(await onHost.ping(subnet.gateway_ip), "the guest on public does not reach the public gateway");
    const r = await run(["busybox", "ping", "-c", "1", "-W", "5", ip], { netns: publicNs, okCodes: [0, 1] });
    assert.equal(r.code, 0, `the public namespace does not reach the guest: ${r.stdout}`);

    // Reconciled: a lost link comes back at the agent's resync.
    await run(["ip", "link", "del", tapName(port.id)], { netns: hostNs });
    await run(["ip", "link", "del", link], { netns: hostNs });
    await agent!.resync();
    assert.equal((await getLink(hostNs, link))?.master, bridgeName(pub));
    assert.equal((await getLink(publicNs, link))?.master, bridgeName(pub));

    // The port goes: the host's bridge of public and both ends of the link go with it.
    await c.ok("DELETE", `/v2.0/ports/${port.id}`, 204);
    await waitFor("the host's public bridge and link gone", async () => {
      const nothing = [
        await getLink(hostNs, bridgeName(pub)),
        await getLink(hostNs, link),
        await getLink(publicNs, link),
      ];
      return nothing.every((l) => l === null);
    });
    await c.ok("PUT", `/v2.0/subnets/${subnet.id}`, 200, { body: { subnet: { enable_dhcp: false } } });
    await waitFor("the public network's DHCP gone", () => !existsSync(dhcpPaths(driver.host, pub).pid));
  });

  test("port forwardings: a floating IP's port reaches the guest's service, and stops when removed", async () => {
    const pub = ids.public;
    const fip2 = (
      await c.ok("POST", "/v2.0/floatingips", 201, { body: { floatingip: { floating_network_id: pub } } })
    ).floatingip;
    ids.fip2 = fip2.id;
    const pf = (
      await c.ok("POST", `/v2.0/floatingips/${fip2.id}/port_forwardings`, 201, {
        body: {
          port_forwarding: {
            protocol: "tcp",
            internal_ip_address: ids.guestIp,
            internal_port: 22,
            internal_port_id: ids.guestPort,
            external_port: 2022,
          },
        },
      })
    ).port_forwarding;
    await waitFor("the forwarding's DNAT", async () =>
      (await ipt(routerNs(), "nat")).includes(`--dport 2022 -j DNAT --to-destination ${ids.guestIp}:22`),
    );
    await guest.serve(22, "guest1");
    const greeting = await waitFor("the forwarded service", () =>
      lab.probe(publicNs, fip2.floating_ip_address, 2022),
    );
    assert.match(greeting, /^guest1 /);
    await c.ok("DELETE", `/v2.0/floatingips/${fip2.id}/port_forwardings/${pf.id}`, 204);
    await waitFor(
      "the forwarding's DNAT gone",
      async () => !(await ipt(routerNs(), "nat")).includes("--dport 2022"),
    );
    assert.equal(await lab.probe(publicNs, fip2.floating_ip_address, 2022, 1_500), null);

    // UDP-Lite (an nft table in the router namespace: iptables cannot DNAT its ports), to another port.
    const lite = (
      await c.ok("POST", `/v2.0/floatingips/${fip2.id}/port_forwardings`, 201, {
        body: {
          port_forwarding: {
            protocol: "udplite",
            internal_ip_address: ids.guestIp,
            internal_port: 6000,
            internal_port_id: ids.guestPort,
            external_port: 5000,
          },
        },
      })
    ).port_forwarding;
    const liteTable = async () =>
      (await run(["nft", "list", "table", "ip", "stratus-udplite"], { netns: routerNs(), okCodes: [0, 1] }))
        .stdout;
    await waitFor("the UDP-Lite forwarding's DNAT", async () =>
      (await liteTable()).includes(`udplite dport 5000 dnat to ${ids.guestIp}:6000`),
    );
    const server = lab.spawn(guest.ns, [PYTHON, "-c", UDPLITE_ECHO, "6000"]);
    let out = "";
    server.stdout!.on("data", (d) => (out += String(d)));
    await waitFor("the UDP-Lite echo listening", () => out.includes("listening"));
    const ask = async (ms: number) =>
      (
        await run([PYTHON, "-c", UDPLITE_ASK, fip2.floating_ip_address, "5000", String(ms / 1000)], {
          netns: publicNs,
          timeoutMs: ms + 30_000,
        })
      ).stdout.trim();
    assert.match(
      await waitFor("a UDP-Lite answer", async () => {
        const a = await ask(2_000);
        return a === "TIMEOUT" ? null : a;
      }),
      new RegExp(`^udplite hi from ${publicAddrRe}`),
    );
    await c.ok("DELETE", `/v2.0/floatingips/${fip2.id}/port_forwardings/${lite.id}`, 204);
    await waitFor("the UDP-Lite table gone", async () => (await liteTable()) === "");
    assert.equal(await ask(1_500), "TIMEOUT");
    server.kill("SIGKILL");
  });

  test("stratus public-exec runs in the cloud's public namespace and passes the exit code through", async () => {
    const cli = (args: string[]) =>
      new Promise<{ code: number; out: string; err: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(ROOT, "bin", "stratus"), ...args],
          { timeout: 60_000 },
          (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
        );
      });
    const ping = await cli([
      "public-exec",
      "--data-dir",
      c.t.dataDir,
      "--",
      "busybox",
      "ping",
      "-c",
      "1",
      "-W",
      "5",
      ids.fipIp,
    ]);
    assert.equal(ping.code, 0, ping.out + ping.err);
    const seven = await cli(["public-exec", "--data-dir", c.t.dataDir, "--", "sh", "-c", "exit 7"]);
    assert.equal(seven.code, 7);
    const none = await cli(["public-exec", "--data-dir", join(lab.dir, "no-cloud"), "--", "true"]);
    assert.equal(none.code, 2);
    assert.match(none.err, /public network namespace s[0-9a-f]{8}-public does not exist/);
  });

  test("changes follow: a rule updates the port's chain, disassociating the floating IP removes its NAT", async () => {
    const port = (await c.ok("GET", `/v2.0/ports/${ids.port}`, 200)).port;
    // The packets the network's bridge saw so far (its conntrack zone rule, and its bridged-traffic accept rule).
    const counted = async () => {
      const out = (await ipt(hostNs, "raw")) + "\n" + (await ipt(hostNs, "filter"));
      const count = (re: RegExp) =>
        Number(/^\[(\d+):\d+\]/.exec(out.split("\n").find((l) => re.test(l)) ?? "")?.[1] ?? -1);
      const br = bridgeName(ids.net);
      return [count(new RegExp(`-i ${br} -j CT --zone`)), count(new RegExp(`-i ${br} -o ${br} .*-j ACCEPT`))];
    };
    const before = await counted();
    assert.ok(
      before.every((n) => n > 0),
      `the bridge's rules counted nothing: ${before}`,
    );
    await c.ok("POST", "/v2.0/security-group-rules", 201, {
      body: {
        security_group_rule: {
          security_group_id: port.security_groups[0],
          direction: "ingress",
          protocol: "tcp",
          port_range_min: 2222,
          port_range_max: 2222,
        },
      },
    });
    await waitFor("the rule in the port's chain", async () =>
      (await ipt(hostNs, "filter")).includes("--dport 2222"),
    );
    // Only the port's chain was rewritten: the other chains kept their counters.
    const now = await counted();
    assert.ok(
      now.every((n, i) => n >= before[i]),
      `counters were reset: ${before} -> ${now}`,
    );
    await c.ok("PUT", `/v2.0/floatingips/${ids.fip}`, 200, { body: { floatingip: { port_id: null } } });
    await waitFor(
      "the floating IP's NAT gone",
      async () => !(await ipt(routerNs(), "nat")).includes(ids.fipIp),
    );
    await c.ok("PUT", `/v2.0/floatingips/${ids.fip}`, 200, {
      body: { floatingip: { port_id: ids.guestPort } },
    });
    await waitFor("the floating IP's NAT back", async () =>
      (await ipt(routerNs(), "nat")).includes(ids.fipIp),
    );
  });

  test("an agent restart rebuilds nothing: same dnsmasq, same bridge, same chains and counters", async () => {
    const before = {
      pid: dnsmasqPid(),
      bridge: (await getLink(hostNs, bridgeName(ids.net)))?.ifindex,
      tap: (await getLink(hostNs, tapName(ids.port)))?.ifindex,
      filter: await ipt(hostNs, "filter"),
      raw: await ipt(hostNs, "raw"),
      nat: await ipt(routerNs(), "nat"),
    };
    await agent!.close();
    agent = null;
    await startAgent();
    const now = {
      pid: dnsmasqPid(),
      bridge: (await getLink(hostNs, bridgeName(ids.net)))?.ifindex,
      tap: (await getLink(hostNs, tapName(ids.port)))?.ifindex,
      filter: await ipt(hostNs, "filter"),
      raw: await ipt(hostNs, "raw"),
      nat: await ipt(routerNs(), "nat"),
    };
    assert.deepEqual(now, before);
    // The guest still reaches its router.
    assert.ok(await guest.ping("10.99.0.1"));
  });

  test("a router whose port vanished is rebuilt at its next update (an unchanged spec is verified, not trusted)", async () => {
    const gw = (
      await c.ok("GET", `/v2.0/ports?device_id=${ids.router}&device_owner=network:router_gateway`, 200)
    ).ports[0];
    const qg = `qg-${gw.id.slice(0, 11)}`;
    await run(["ip", "link", "del", tapName(gw.id)], { netns: publicNs });
    assert.equal(await getLink(routerNs(), qg), null);
    await c.ok("PUT", `/v2.0/routers/${ids.router}`, 200, { body: { router: { description: "again" } } });
    await waitFor("the gateway port back", () => getLink(routerNs(), qg));
    // The link comes back before its address, routes and NAT: retry single pings until the whole path answers.
    await waitFor(
      "the floating IP reachable again",
      async () =>
        (
          await run(["busybox", "ping", "-c", "1", "-W", "1", ids.fipIp], {
            netns: publicNs,
            okCodes: [0, 1],
          })
        ).code === 0,
      30_000,
    );
  });

  test("deleting everything through the API leaves nothing behind", async () => {
    await c.ok("DELETE", `/v2.0/floatingips/${ids.fip}`, 204);
    await c.ok("DELETE", `/v2.0/floatingips/${ids.fip2}`, 204);
    await c.ok("PUT", `/v2.0/routers/${ids.router}/remove_router_interface`, 200, {
      body: { subnet_id: ids.subnet },
    });
    await c.ok("DELETE", `/v2.0/routers/${ids.router}`, 204);
    const r1 = (await c.ok("GET", "/v2.0/routers?name=router1", 200)).routers[0];
    const privSubnet = (await c.ok("GET", "/v2.0/subnets?name=private-subnet", 200)).subnets[0];
    await c.ok("PUT", `/v2.0/routers/${r1.id}/remove_router_interface`, 200, {
      body: { subnet_id: privSubnet.id },
    });
    await c.ok("DELETE", `/v2.0/routers/${r1.id}`, 204);
    // The lab's guest veth is the lab's: remove it before the bridge goes.
    await run(["ip", "link", "del", tapName(ids.guestPort)], { netns: hostNs, okCodes: [0, 1] });
    await c.ok("DELETE", `/v2.0/ports/${ids.guestPort}`, 204);
    await c.ok("DELETE", `/v2.0/ports/${ids.port}`, 204);
    await c.ok("DELETE", `/v2.0/networks/${ids.net}`, 204);
    for (const name of ["private", "public"]) {
      const n = (await c.ok("GET", `/v2.0/networks?name=${name}`, 200)).networks[0];
      await c.ok("DELETE", `/v2.0/networks/${n.id}`, 204);
    }
    await waitFor("no namespace of the cloud", async () =>
      (await listNamespaces()).every((n) => !n.startsWith(prefix)),
    );
    await waitFor("no link but lo in the host", async () =>
      (await listLinks(hostNs)).every((l) => l.ifname === "lo"),
    );
    await waitFor("no stratus chains", async () => {
      const all = (await run(["iptables-save"], { netns: hostNs })).stdout;
      const all6 = (await run(["ip6tables-save"], { netns: hostNs })).stdout;
      return !all.includes("stratus") && !all6.includes("stratus");
    });
    assert.equal((await run(["ipset", "list", "-n"], { netns: hostNs })).stdout.trim(), "");
    assert.doesNotMatch((await run(["nft", "list", "tables"], { netns: hostNs })).stdout, /stratus/);
    await waitFor("no dnsmasq", () => processesMentioning(stateDir).length === 0);
  });
});
