// The metadata proxy on a real kernel: a namespace playing a network's DHCP namespace (169.254.169.254/32 on its
// port), a guest namespace behind a veth with a route to it, the proxy process started in the first by
// createMetadataProxies (dropping to nobody after binding port 80), the host-side agent it forwards to, and a
// stand-in metadata service that verifies the signature. The guest uses curl, as a guest would.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pino from "pino";
import { verifyInstanceId } from "../../../src/compute/metadata/signing.js";
import { ensureVeth } from "../../../src/network/drivers/linux/ip.js";
import { ensureAddresses, ensureRoute } from "../../../src/network/drivers/linux/ip-addr.js";
import { ensureNamespace } from "../../../src/network/drivers/linux/ip-netns.js";
import { pidAlive } from "../../../src/shared/process.js";
import {
  createMetadataProxies,
  nobodyUser,
  type MetadataProxies,
} from "../../../src/network/metadata/proxies.js";
import { Lab, SKIP_KERNEL } from "../drivers/linux/lab.js";
import { curl } from "./guest.js";

const SECRET = "0123456789abcdef0123456789abcdef";
const MD = "http://169.254.169.254";
const log = pino({ level: "silent" });

describe("metadata proxy in a network namespace (real kernel)", { skip: SKIP_KERNEL }, () => {
  const lab = new Lab();
  const dhcpNs = lab.ns("qdhcp");
  const guestNs = lab.ns("guest");
  const networkId = lab.id("n");
  const state = join(lab.dir, "state");
  const socketPath = join(state, "metadata", "agent.sock");
  let service: Server;
  let serviceUrl = "";
  let proxies: MetadataProxies;
  const callers = new Map([[`${networkId} 10.203.0.11`, { instanceId: "inst-a", projectId: "proj-a" }]]);
  const make = () =>
    createMetadataProxies({
      stateDir: state,
      socketPath,
      log,
      agent: {
        lookup: async (net, ip) => callers.get(`${net} ${ip}`) ?? null,
        target: { url: serviceUrl, secret: SECRET },
      },
    });

  before(async () => {
    service = createServer((req, res) => {
      const id = String(req.headers["x-instance-id"] ?? "");
      const ok = verifyInstanceId(SECRET, id, String(req.headers["x-instance-id-signature"] ?? ""));
      req.resume();
      req.on("end", () => {
        res.writeHead(ok ? 200 : 403, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            uuid: ok ? id : "forged",
            forwarded: req.headers["x-forwarded-for"],
            path: req.url,
          }),
        );
      });
    });
    await new Promise<void>((r) => service.listen(0, "127.0.0.1", () => r()));
    serviceUrl = `http://127.0.0.1:${(service.address() as { port: number }).port}`;
    await ensureNamespace(dhcpNs);
    await ensureNamespace(guestNs);
    await ensureVeth(dhcpNs, { name: "ns-md0", peerName: "eth0", peerNetns: guestNs, mtu: 1500 });
    await ensureAddresses(dhcpNs, "ns-md0", ["10.203.0.2/24", "169.254.169.254/32"]);
    await ensureAddresses(guestNs, "eth0", ["10.203.0.11/24", "10.203.0.12/24"]);
    await ensureRoute(guestNs, { destination: "169.254.169.254/32", via: "10.203.0.2" });
    proxies = make();
  });

  after(async () => {
    try {
      await proxies?.remove(networkId);
      await proxies?.close();
    } finally {
      service?.closeAllConnections();
      await new Promise((r) => service?.close(r));
      await lab.close();
    }
    await lab.assertClean();
  });

  it("serves the guest its own metadata through a proxy running as nobody", async () => {
    await proxies.ensure(networkId, dhcpNs);
    const pid = proxies.pid(networkId);
    assert.ok(pid !== null && pidAlive(pid));
    const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    assert.equal(Number(uid?.[1]), nobodyUser().uid, "real uid");
    assert.equal(Number(uid?.[2]), nobodyUser().uid, "effective uid");
    const sock = statSync(socketPath);
    assert.equal(sock.mode & 0o777, 0o660);
    assert.equal(sock.gid, nobodyUser().gid);
    const r = await curl(guestNs, `${MD}/openstack/latest/meta_data.json`);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), {
      uuid: "inst-a",
      forwarded: "10.203.0.11",
      path: "/openstack/latest/meta_data.json",
    });
  });

  it("ignores identity headers the guest sends", async () => {
    const r = await curl(guestNs, `${MD}/openstack/latest/meta_data.json`, [
      "-H",
      "X-Instance-ID: inst-b",
      "-H",
      `X-Instance-ID-Signature: ${"0".repeat(64)}`,
      "-H",
      "X-Forwarded-For: 10.203.0.12",
      "-H",
      "X-Neutron-Network-ID: other",
      "-H",
      "X-Tenant-ID: proj-b",
    ]);
    assert.equal(r.status, 200, r.body);
    assert.equal(JSON.parse(r.body).uuid, "inst-a");
    assert.equal(JSON.parse(r.body).forwarded, "10.203.0.11");
  });

  it("answers 404 to a source address no instance holds", async () => {
    const r = await curl(guestNs, `${MD}/openstack/latest/meta_data.json`, ["--interface", "10.203.0.12"]);
    assert.equal(r.status, 404);
    assert.equal(r.body, "404 The resource could not be found.\n");
  });

  it("refuses oversized requests", async () => {
    const file = join(lab.dir, "big");
    writeFileSync(file, Buffer.alloc(100 * 1024, 97));
    const body = await curl(guestNs, `${MD}/openstack/latest/password`, ["--data-binary", `@${file}`]);
    assert.equal(body.status, 413);
    const head = await curl(guestNs, `${MD}/openstack/latest/meta_data.json`, [
      "-H",
      `X-Big: ${"a".repeat(20_000)}`,
    ]);
    assert.equal(head.status, 431);
  });

  it("ensure again, and after the agent restarts, keeps the same process", async () => {
    const pid = proxies.pid(networkId);
    await proxies.ensure(networkId, dhcpNs);
    assert.equal(proxies.pid(networkId), pid);
    await proxies.close();
    proxies = make();
    await proxies.ensure(networkId, dhcpNs);
    assert.equal(proxies.pid(networkId), pid, "adopted, not restarted");
    assert.deepEqual(proxies.networks(), [networkId]);
    const r = await curl(guestNs, `${MD}/openstack/latest/meta_data.json`);
    assert.equal(r.status, 200, r.body);
  });

  it("a proxy that died is started again", async () => {
    const pid = proxies.pid(networkId)!;
    process.kill(pid, "SIGKILL");
    while (pidAlive(pid)) await new Promise((r) => setTimeout(r, 10));
    await proxies.ensure(networkId, dhcpNs);
    const again = proxies.pid(networkId);
    assert.ok(again !== null && again !== pid);
    assert.equal((await curl(guestNs, `${MD}/openstack/latest/meta_data.json`)).status, 200);
  });

  it("a namespace without the metadata address: ensure fails saying why, and leaves nothing running", async () => {
    const empty = lab.ns("empty");
    await ensureNamespace(empty);
    const other = lab.id("n");
    await assert.rejects(proxies.ensure(other, empty), /did not start.*EADDRNOTAVAIL/);
    assert.equal(proxies.pid(other), null);
    await proxies.remove(other);
    await assert.rejects(proxies.ensure("../x", empty), /not a plain identifier/);
  });

  it("remove leaves no process and no files", async () => {
    const pid = proxies.pid(networkId)!;
    await proxies.remove(networkId);
    assert.equal(pidAlive(pid), false);
    assert.equal(existsSync(join(state, "metadata-proxy", networkId)), false);
    assert.equal(proxies.pid(networkId), null);
    assert.deepEqual(proxies.networks(), []);
    await proxies.remove(networkId); // again: nothing to do
  });
});
