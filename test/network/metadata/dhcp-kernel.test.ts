// The metadata proxy with the linux data plane's own DHCP building block: a network's bridge in a namespace playing
// the host, its DHCP namespace from ensureDhcp (169.254.169.254/32 on the DHCP port), the proxy started in it, and a
// guest that leases its address by DHCP, installs the classless route the lease carries to the metadata address,
// and reads its metadata. Removing the DHCP namespace takes the proxy with it; remove() then clears its files.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { verifyInstanceId } from "../../../src/compute/metadata/signing.js";
import { ensureDhcp, removeDhcp } from "../../../src/network/drivers/linux/dhcp.js";
import type { DhcpSpec } from "../../../src/network/drivers/linux/dhcp-files.js";
import type { LinuxHost } from "../../../src/network/drivers/linux/host.js";
import { pidAlive } from "../../../src/shared/process.js";
import type { NetworkSpec, PortSpec } from "../../../src/network/drivers/linux/model.js";
import { bridgeName, dhcpNamespace } from "../../../src/network/drivers/linux/names.js";
import { ensureNetwork, removeNetwork } from "../../../src/network/drivers/linux/network.js";
import {
  createMetadataProxies,
  metadataSocketPath,
  type MetadataProxies,
} from "../../../src/network/metadata/proxies.js";
import { Lab, SKIP_KERNEL, type Guest } from "../drivers/linux/lab.js";
import { curl } from "./guest.js";

const SECRET = "0123456789abcdef0123456789abcdef";

describe(
  "metadata proxy in a DHCP namespace of the linux data plane (real kernel)",
  { skip: SKIP_KERNEL },
  () => {
    const lab = new Lab();
    let host: LinuxHost;
    let net: NetworkSpec;
    let spec: DhcpSpec;
    let guest: Guest;
    let service: Server;
    let proxies: MetadataProxies;
    const instances = new Map<string, string>();

    before(async () => {
      service = createServer((req, res) => {
        const id = String(req.headers["x-instance-id"] ?? "");
        const ok = verifyInstanceId(SECRET, id, String(req.headers["x-instance-id-signature"] ?? ""));
        req.resume();
        req.on("end", () => {
          res.writeHead(ok ? 200 : 403, { "content-type": "text/plain" });
          res.end(ok ? `${id} ${req.headers["x-forwarded-for"]}` : "forged");
        });
      });
      await new Promise<void>((r) => service.listen(0, "127.0.0.1", () => r()));
      const url = `http://127.0.0.1:${(service.address() as { port: number }).port}`;
      host = await lab.host("h");
      net = { id: lab.id("n"), mtu: 1450, segmentation: "local" };
      const subnet = {
        id: lab.id("s"),
        networkId: net.id,
        cidr: "10.204.0.0/24",
        ipVersion: 4 as const,
        gateway: "10.204.0.1",
        dhcp: true,
        dns: [],
        hostRoutes: [],
        allocationPools: [{ start: "10.204.0.2", end: "10.204.0.200" }],
      };
      const port = (role: string, ip: string, mac: string, owner: string): PortSpec => ({
        id: lab.id(role),
        networkId: net.id,
        mac,
        fixedIps: [{ subnetId: subnet.id, address: ip }],
        deviceOwner: owner,
        securityGroups: [],
        allowedAddressPairs: [],
        portSecurity: false,
        extraDhcpOpts: [],
      });
      const dhcpPort = port("d", "10.204.0.2", "fa:16:3e:04:00:02", "network:dhcp");
      const vm = port("p", "10.204.0.11", "fa:16:3e:04:00:11", "compute:nova");
      instances.set(`${net.id} 10.204.0.11`, "inst-dhcp");
      spec = { network: net, subnets: [subnet], port: dhcpPort, ports: [dhcpPort, vm], metadata: true };
      await ensureNetwork(host, net);
      await ensureDhcp(host, spec);
      guest = await lab.guest("g", host, bridgeName(net.id), vm.id, vm.mac, net.mtu);
      proxies = createMetadataProxies({
        stateDir: host.stateDir,
        socketPath: metadataSocketPath(host.stateDir),
        log: pino({ level: "silent" }),
        agent: {
          lookup: async (n, ip) => {
            const id = instances.get(`${n} ${ip}`);
            return id ? { instanceId: id, projectId: "p" } : null;
          },
          target: { url, secret: SECRET },
        },
      });
    });

    after(async () => {
      try {
        await proxies?.remove(net.id);
        await proxies?.close();
        await removeDhcp(host, net.id);
        await removeNetwork(host, net);
      } finally {
        service?.closeAllConnections();
        await new Promise((r) => service?.close(r));
        await lab.close();
      }
      await lab.assertClean();
    });

    it("a guest configured by DHCP reaches its metadata through the route its lease carries", async () => {
      await proxies.ensure(net.id, dhcpNamespace(host.nsPrefix!, net.id));
      const lease = await guest.dhcp();
      assert.ok(lease, "no lease");
      await guest.address([`${lease.get("ip")}/${lease.get("mask")}`]);
      const routes = (lease.get("staticroutes") ?? "").split(" ");
      const i = routes.indexOf("169.254.169.254/32");
      assert.ok(i >= 0, `no metadata route in ${lease.get("staticroutes")}`);
      await guest.exec(["ip", "route", "replace", "169.254.169.254/32", "via", routes[i + 1]!]);
      const r = await curl(guest.ns, "http://169.254.169.254/openstack/latest/meta_data.json");
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, "inst-dhcp 10.204.0.11");
    });

    it("removing the DHCP namespace takes the proxy with it; remove() clears its files; ensure starts it again", async () => {
      const pid = proxies.pid(net.id)!;
      await removeDhcp(host, net.id);
      assert.equal(pidAlive(pid), false);
      assert.equal(proxies.pid(net.id), null);
      await ensureDhcp(host, spec);
      await proxies.ensure(net.id, dhcpNamespace(host.nsPrefix!, net.id));
      const again = proxies.pid(net.id);
      assert.ok(again !== null && again !== pid);
      const r = await curl(guest.ns, "http://169.254.169.254/openstack/latest/meta_data.json");
      assert.equal(r.status, 200, r.body);
      await proxies.remove(net.id);
      assert.deepEqual(proxies.networks(), []);
    });
  },
);
