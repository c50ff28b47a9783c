// The network benchmark's data-plane scenarios, which need real infrastructure: root (namespaces, bridges,
// iptables), the `linux` network driver, and QEMU guests. Each scenario names what it needs; where that is missing
// it prints "skipped: <reason>" and measures nothing. Where it is present, the scenarios run in a cloud of their own
// (`stratus up` with the linux network driver and the qemu compute driver), since the API figures of bench/network.ts
// are taken with the driver the user chose (noop by default).
//
// Scenarios (a new one is one entry of SCENARIOS):
// - "server create → ping on floating IP": a server on a fresh project network behind a router, with a floating
//   IP, split into control plane (POST /servers until ACTIVE), data plane (until its port is ACTIVE and the
//   floating IP is associated) and guest boot (until the floating IP answers ping from the public namespace);
// - "security group rule add → enforced": on that server, the ICMP rule removed (until ping stops) and added back,
//   timed from the POST to the first answered ping.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { GUEST_IMAGE_NAMES } from "../src/cloud/guest-image.js";
import { cloudNetIdentity } from "../src/network/drivers/linux/identity.js";
import { isNetworkDriverName } from "../src/network/drivers/registry.js";
import { pool, printRows, startStratus, type BenchCloud } from "./lib.js";
import { NetworkApi } from "./network-api.js";

/** A data-plane cloud and the server all scenarios share (booted by the first). */
interface DataPlaneCtx {
  cloud: BenchCloud;
  api: NetworkApi;
  /** Compute API calls as the same admin. */
  compute: (method: string, path: string, body: unknown, want: number) => Promise<any>;
  /** The id of the active image of that name. */
  imageId: (name: string) => Promise<string>;
  /** What the scenarios made, undone in this order at the end (also after a failure). */
  cleanup: Array<() => Promise<unknown>>;
  /** Set by the boot scenario: the server, its floating IP and its security group's ICMP rule. */
  server?: { id: string; fip: string; sg: string; icmpRule: string };
}

/** One timed scenario: rows of [phase, seconds]. */
interface Scenario {
  name: string;
  run(ctx: DataPlaneCtx): Promise<Array<[string, number]>>;
}

const QEMU = ["/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64"];
/** Guests boot under TCG on a loaded machine: minutes. */
const BOOT_TIMEOUT_MS = 15 * 60_000;
const ENFORCE_TIMEOUT_MS = 120_000;
const POLL_MS = 200;

/** Why the data-plane scenarios cannot run here, or null when they can. */
export function dataPlaneUnavailable(): string | null {
  if (process.getuid?.() !== 0) return "needs root (namespaces, bridges, iptables)";
  if (!isNetworkDriverName("linux")) return "the linux network driver is not registered yet";
  if (!QEMU.some((p) => existsSync(p))) return "needs qemu-system-x86_64";
  if (!existsSync("/usr/sbin/ip") && !existsSync("/usr/bin/ip")) return "needs iproute2 (ip)";
  return null;
}

/** Whether the floating IP answers one ping from the cloud's public namespace within a second. */
function pings(cloud: BenchCloud, ip: string): Promise<boolean> {
  const ns = cloudNetIdentity(cloud.dataDir).publicNetns;
  return new Promise((resolve) =>
    execFile("ip", ["netns", "exec", ns, "ping", "-n", "-c", "1", "-W", "1", ip], (err) => resolve(!err)),
  );
}

/** Seconds until `check` is true (polled), or an error naming `what` after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return (performance.now() - t0) / 1000;
}

const icmpRule = (sg: string) => ({
  security_group_rule: { security_group_id: sg, direction: "ingress", ethertype: "IPv4", protocol: "icmp" },
});

const SCENARIOS: Scenario[] = [
  {
    name: "server create → ping on floating IP",
    async run(ctx) {
      const { api } = ctx;
      const pub = (await api.call("GET", "/networks?router:external=true", undefined, 200)).networks[0];
      const net = (await api.call("POST", "/networks", { network: { name: "bench-dp" } }, 201)).network;
      const subnet = (
        await api.call(
          "POST",
          "/subnets",
          { subnet: { network_id: net.id, ip_version: 4, cidr: "10.201.0.0/24", name: "bench-dp" } },
          201,
        )
      ).subnet;
      const router = (
        await api.call(
          "POST",
          "/routers",
          { router: { name: "bench-dp", external_gateway_info: { network_id: pub.id } } },
          201,
        )
      ).router;
      await api.call("PUT", `/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id }, 200);
      const sg = (await api.call("POST", "/security-groups", { security_group: { name: "bench-dp" } }, 201))
        .security_group;
      const rule = (await api.call("POST", "/security-group-rules", icmpRule(sg.id), 201))
        .security_group_rule;
      const image = await ctx.imageId(GUEST_IMAGE_NAMES.disk);

      const t0 = performance.now();
      const server = (
        await ctx.compute(
          "POST",
          "/servers",
          {
            server: {
              name: "bench-dp",
              imageRef: image,
              flavorRef: "42",
              networks: [{ uuid: net.id }],
              security_groups: [{ name: sg.name }],
            },
          },
          202,
        )
      ).server;
      const active = await until("server ACTIVE", BOOT_TIMEOUT_MS, async () => {
        const s = (await ctx.compute("GET", `/servers/${server.id}`, undefined, 200)).server;
        if (s.status === "ERROR") throw new Error(`server ${server.id} went to ERROR`);
        return s.status === "ACTIVE";
      });
      const port = (await api.call("GET", `/ports?device_id=${server.id}`, undefined, 200)).ports[0];
      const fip = (
        await api.call(
          "POST",
          "/floatingips",
          { floatingip: { floating_network_id: pub.id, port_id: port.id } },
          201,
        )
      ).floatingip;
      const wired = await until("port ACTIVE and floating IP ACTIVE", ENFORCE_TIMEOUT_MS, async () => {
        const p = (await api.call("GET", `/ports/${port.id}`, undefined, 200)).port;
        const f = (await api.call("GET", `/floatingips/${fip.id}`, undefined, 200)).floatingip;
        return p.status === "ACTIVE" && f.status === "ACTIVE";
      });
      const boot = await until("ping on the floating IP", BOOT_TIMEOUT_MS, () =>
        pings(ctx.cloud, fip.floating_ip_address),
      );
      const total = (performance.now() - t0) / 1000;
      ctx.server = { id: server.id, fip: fip.floating_ip_address, sg: sg.id, icmpRule: rule.id };
      ctx.cleanup.push(
        () => api.call("DELETE", `/floatingips/${fip.id}`, undefined, 204),
        () => ctx.compute("DELETE", `/servers/${server.id}`, undefined, 204),
        () =>
          until("server deleted", BOOT_TIMEOUT_MS, async () => {
            const r = await api.call("GET", `/ports?device_id=${server.id}`, undefined, 200);
            return r.ports.length === 0;
          }),
        () => api.call("PUT", `/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id }, 200),
        () => api.call("DELETE", `/routers/${router.id}`, undefined, 204),
        () => api.call("DELETE", `/networks/${net.id}`, undefined, 204),
        () => api.call("DELETE", `/security-groups/${sg.id}`, undefined, 204),
      );
      return [
        ["control plane (POST /servers → ACTIVE)", active],
        ["data plane (port and floating IP ACTIVE)", wired],
        ["guest boot (→ first ping on the floating IP)", boot],
        ["total", total],
      ];
    },
  },
  {
    name: "security group rule add → enforced",
    async run(ctx) {
      const s = ctx.server;
      if (!s) throw new Error("needs the server of the boot scenario");
      await ctx.api.call("DELETE", `/security-group-rules/${s.icmpRule}`, undefined, 204);
      const removed = await until("ping refused after the rule's removal", ENFORCE_TIMEOUT_MS, async () => {
        return !(await pings(ctx.cloud, s.fip));
      });
      const t0 = performance.now();
      const rule = (await ctx.api.call("POST", "/security-group-rules", icmpRule(s.sg), 201))
        .security_group_rule;
      const api = (performance.now() - t0) / 1000;
      const enforced = await until("ping answered after the rule's add", ENFORCE_TIMEOUT_MS, () =>
        pings(ctx.cloud, s.fip),
      );
      s.icmpRule = rule.id;
      return [
        ["rule delete → ping refused", removed],
        ["rule add: API call", api],
        ["rule add → ping answered (enforced)", api + enforced],
      ];
    },
  },
];

/** Run every data-plane scenario, or print why each is skipped. */
export async function runDataPlaneScenarios(): Promise<void> {
  console.log("\ndata-plane scenarios:");
  const why = dataPlaneUnavailable();
  if (why) {
    for (const s of SCENARIOS) console.log(`${s.name}: skipped: ${why}`);
    return;
  }
  const cloud = await startStratus({ STRATUS_NETWORK_DRIVER: "linux", STRATUS_COMPUTE_DRIVER: "qemu" }, [], {
    readyTimeoutMs: BOOT_TIMEOUT_MS,
  });
  const http = pool(cloud.url, 4);
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    const api = await NetworkApi.connect(cloud, http);
    const compute = async (method: string, path: string, body: unknown, want: number) => {
      const r = await http.request({
        method,
        path: `/compute/v2.1${path}`,
        headers: {
          "x-auth-token": api.token,
          "openstack-api-version": "compute 2.79",
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.body.text();
      if (r.statusCode !== want)
        throw new Error(`${method} ${path}: HTTP ${r.statusCode} ${text.slice(0, 300)}`);
      return text ? JSON.parse(text) : {};
    };
    const imageId = async (name: string) => {
      const r = await http.request({
        method: "GET",
        path: `/image/v2/images?name=${encodeURIComponent(name)}&status=active`,
        headers: { "x-auth-token": api.token },
      });
      const body = (await r.body.json()) as { images?: Array<{ id: string }> };
      const id = body.images?.[0]?.id;
      if (r.statusCode !== 200 || !id) throw new Error(`no active ${name} image (HTTP ${r.statusCode})`);
      return id;
    };
    const ctx: DataPlaneCtx = { cloud, api, compute, imageId, cleanup };
    for (const s of SCENARIOS) {
      try {
        const rows = await s.run(ctx);
        console.log(`${s.name}:`);
        printRows(
          ["phase", "seconds"],
          rows.map(([phase, secs]) => [phase, secs.toFixed(2)]),
        );
      } catch (e) {
        console.log(`${s.name}: failed: ${(e as Error).message}`);
      }
    }
  } finally {
    for (const undo of cleanup) await undo().catch((e: Error) => console.log(`cleanup: ${e.message}`));
    await http.close();
    await cloud.stop(); // which also removes its data plane
  }
}
