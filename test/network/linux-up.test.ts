// `stratus up --network-driver linux` for real (root, fake compute): the banner names the driver, the start-up
// topology is namespaces, bridges and dnsmasq in the cloud's own names, `stratus public-exec` reaches router1's
// gateway, stopping leaves the data plane and the next start keeps it as it is (same dnsmasq, same bridge), and
// `stratus wipe-network` removes every object of the cloud (and only those: they carry its identity).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { run } from "../../src/network/drivers/linux/exec.js";
import { cloudNetIdentity } from "../../src/network/drivers/linux/identity.js";
import { getLink } from "../../src/network/drivers/linux/ip.js";
import { listNamespaces } from "../../src/network/drivers/linux/ip-netns.js";
import { bridgeName } from "../../src/network/drivers/linux/names.js";
import {
  killStratus,
  ROOT,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";
import { SKIP_KERNEL } from "./drivers/linux/lab.js";

/** Run `bin/stratus ARGS`; its exit code and output. */
const cli = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [join(ROOT, "bin", "stratus"), ...args], { timeout: 120_000 }, (e, out, err) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: out + err }),
    );
  });

describe("stratus up with the linux network driver", { skip: SKIP_KERNEL }, () => {
  let s: StratusProcess | undefined;
  let dir: string | undefined;
  const args = ["--network-driver", "linux", "--compute-driver", "fake"];

  after(async () => {
    if (s) await terminateStratus(s).catch(() => undefined);
    if (dir) await cli(["wipe-network", "--data-dir", dir]);
    await killStratus(s);
  });

  test("real topology, public-exec, a restart without flap, wipe-network leaves nothing", async () => {
    s = await startStratus("stratus-linux-up-", { args, readyTimeoutMs: 180_000 });
    dir = s.dir;
    await until("the banner", () => /network host .*: linux driver/.test(s!.output()), 120_000);
    const id = cloudNetIdentity(dir);
    const mine = async () => (await listNamespaces()).filter((n) => n.startsWith(id.prefix));
    await until(
      "the public namespace, router1 and the private network's DHCP",
      async () => {
        const ns = await mine();
        return (
          ns.includes(id.publicNetns) &&
          ns.some((n) => n.startsWith(`${id.prefix}qrouter-`)) &&
          ns.some((n) => n.startsWith(`${id.prefix}qdhcp-`))
        );
      },
      120_000,
    );
    const qrouter = (await mine()).find((n) => n.startsWith(`${id.prefix}qrouter-`))!;
    const gw = await until("router1's gateway address", async () => {
      const out = (await run(["ip", "-o", "-4", "addr", "show"], { netns: qrouter })).stdout;
      return /qg-\S+\s+inet (172\.24\.4\.\d+)\//.exec(out)?.[1];
    });
    const ping = await cli([
      "public-exec",
      "--data-dir",
      dir,
      "--",
      "busybox",
      "ping",
      "-c",
      "1",
      "-W",
      "5",
      gw,
    ]);
    assert.equal(ping.code, 0, ping.out);

    const netId = readdirSync(join(id.stateDir, "dhcp"))[0];
    const pidFile = join(id.stateDir, "dhcp", netId, "pid");
    await until("dnsmasq's pid file", () => existsSync(pidFile));
    const before = {
      pid: readFileSync(pidFile, "utf8").trim(),
      bridge: (await getLink(undefined, bridgeName(netId)))?.ifindex,
    };
    assert.ok(before.bridge, "the private network's bridge is in the host");

    // Stopping leaves the data plane; the next start keeps it as it is.
    await terminateStratus(s);
    assert.ok((await mine()).includes(id.publicNetns));
    s = await startStratus("stratus-linux-up-", { dir, args, readyTimeoutMs: 180_000 });
    await until("the banner", () => /network host .*: linux driver/.test(s!.output()), 120_000);
    assert.deepEqual(
      {
        pid: readFileSync(pidFile, "utf8").trim(),
        bridge: (await getLink(undefined, bridgeName(netId)))?.ifindex,
      },
      before,
    );
    await terminateStratus(s);

    const wiped = await cli(["wipe-network", "--data-dir", dir]);
    assert.equal(wiped.code, 0, wiped.out);
    assert.match(wiped.out, /removed namespace/);
    assert.deepEqual(await mine(), []);
    assert.equal(await getLink(undefined, bridgeName(netId)), null);
    const save = (await run(["iptables-save"])).stdout + (await run(["ip6tables-save"])).stdout;
    assert.ok(!save.includes(`stratus-${id.firewallTag}-`), "the cloud's chains are left");
    assert.ok(!existsSync(id.stateDir));
  });
});
