// A real guest on a tap, without the network agent: the test makes what the linux driver would (a persistent tap
// in a bridge, MTU 1400, and a DHCP server on the bridge, here dnsmasq in a network namespace of its own behind a
// veth), then the qemu driver boots the built-in guest image with a VIF naming that tap. The guest's udhcpc gets
// the address dnsmasq keeps for the port's MAC (DHCPACK in dnsmasq's log), and answers ARP for it from the
// namespace (arping: what the data plane's packages include; no ping is installed).
// One guest, TCG; everything made here (QEMU, dnsmasq, tap, bridge, veth, namespace, files) goes at the end.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { QemuDriver } from "../../../../src/compute/drivers/qemu/driver.js";
import { ensureGuestImage, type GuestImage } from "../../../../src/compute/guest-image.js";
import { has } from "../../guest-image-qemu.js";
import { until } from "../../../helpers/wait.js";
import { reapAndAssertNoOrphans, scratchDir, testUuid } from "./helpers.js";

const SKIP: string | false = process.env.CI
  ? false
  : process.getuid?.() !== 0
    ? "a tap, a bridge and a namespace need root"
    : !has("qemu-system-x86_64")
      ? "qemu-system-x86_64 is not installed"
      : !has("dnsmasq")
        ? "dnsmasq is not installed (apt-get install dnsmasq-base)"
        : !has("arping")
          ? "arping is not installed (apt-get install iputils-arping)"
          : false;

/** A guest boot under TCG on a loaded 2-core machine, then its DHCP exchange. */
const BOOT_MS = 420_000;

const sfx = randomBytes(3).toString("hex");
const NS = `stratus-tapt-${sfx}`;
const BR = `sttbr${sfx}`;
const TAP = `sttap${sfx}`;
const VA = `sttva${sfx}`;
const VB = `sttvb${sfx}`;
const NET = `10.251.${parseInt(sfx.slice(0, 2), 16) % 200}`;
const GUEST_IP = `${NET}.15`;
const MAC = `fa:16:3e:${sfx.slice(0, 2)}:${sfx.slice(2, 4)}:${sfx.slice(4, 6)}`;
const MTU = 1400;
const TAP2 = `sttaq${sfx}`;
const MAC2 = `fa:16:3e:${sfx.slice(4, 6)}:${sfx.slice(2, 4)}:${sfx.slice(0, 2)}`;

const run = (args: string[], ok = true) => {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: "utf8" });
  if (ok && r.status !== 0) throw new Error(`${args.join(" ")} failed: ${r.stderr}`);
  return r;
};

/** `ip link show` of an interface (flags: NO-CARRIER while no QEMU has the tap open). */
const linkOf = (dev: string) => run(["ip", "link", "show", dev]).stdout;

let dnsmasq: ChildProcess | undefined;
let dnsLog = "";
let image: GuestImage;
let drv: QemuDriver | undefined;
let cleanupDir: (() => Promise<void>) | undefined;
const uuid = testUuid();

before(async () => {
  if (SKIP) return;
  image = await ensureGuestImage({ onProgress: (l) => process.stderr.write(`# guest-image: ${l}\n`) });
  run(["ip", "netns", "add", NS]);
  run(["ip", "link", "add", BR, "type", "bridge"]);
  run(["ip", "tuntap", "add", "dev", TAP, "mode", "tap"]);
  run(["ip", "link", "set", TAP, "mtu", String(MTU), "master", BR, "up"]);
  run(["ip", "tuntap", "add", "dev", TAP2, "mode", "tap"]);
  run(["ip", "link", "set", TAP2, "mtu", String(MTU), "master", BR, "up"]);
  run(["ip", "link", "add", VA, "type", "veth", "peer", "name", VB]);
  run(["ip", "link", "set", VA, "mtu", String(MTU), "master", BR, "up"]);
  run(["ip", "link", "set", VB, "netns", NS]);
  run(["ip", "-n", NS, "link", "set", "lo", "up"]);
  run(["ip", "-n", NS, "link", "set", VB, "mtu", String(MTU), "up"]);
  run(["ip", "-n", NS, "addr", "add", `${NET}.1/24`, "dev", VB]);
  run(["ip", "link", "set", BR, "up"]);
  const d = await scratchDir("tap");
  cleanupDir = d.cleanup;
  dnsmasq = spawn(
    "ip",
    [
      "netns",
      "exec",
      NS,
      "dnsmasq",
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--port=0",
      `--interface=${VB}`,
      "--bind-interfaces",
      "--except-interface=lo",
      `--dhcp-range=${NET}.10,${NET}.20,255.255.255.0,1h`,
      `--dhcp-host=${MAC},${GUEST_IP}`,
      `--dhcp-option=option:mtu,${MTU}`,
      "--dhcp-option=option:router",
      `--dhcp-leasefile=${d.dir}/leases`,
      "--pid-file=",
      "--log-dhcp",
      "--log-facility=-",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  dnsmasq.stdout!.on("data", (b: Buffer) => (dnsLog += b.toString()));
  dnsmasq.stderr!.on("data", (b: Buffer) => (dnsLog += b.toString()));
  await until("dnsmasq to listen", () => /started, version/.test(dnsLog) || dnsmasq!.exitCode !== null);
  assert.equal(dnsmasq.exitCode, null, `dnsmasq exited: ${dnsLog}`);
  drv = new QemuDriver({ stateDir: d.dir, accel: "tcg" });
  await drv.init(`tap-host-${sfx}`);
});

after(async () => {
  await drv?.destroy(uuid).catch(() => undefined);
  if (dnsmasq && dnsmasq.exitCode === null) {
    dnsmasq.kill("SIGTERM");
    await new Promise((r) => dnsmasq!.once("exit", r));
  }
  run(["ip", "link", "del", TAP], false);
  run(["ip", "link", "del", TAP2], false);
  run(["ip", "link", "del", VA], false);
  run(["ip", "link", "del", BR], false);
  run(["ip", "netns", "del", NS], false);
  await cleanupDir?.();
  if (!SKIP) await reapAndAssertNoOrphans();
});

test(
  "the guest's NIC opens the tap: DHCP from the bridge, then it answers ARP from the namespace",
  { skip: SKIP, timeout: BOOT_MS + 120_000 },
  async () => {
    const GiB = 1024 ** 3;
    await drv!.spawn({
      uuid,
      name: "tap-guest",
      vcpus: 1,
      memoryMb: 256,
      rootGb: Math.ceil(image.manifest.diskVirtualSize / GiB),
      image: { id: "stratus-guest", path: image.disk, format: "qcow2" },
      networkInfo: [{ id: `port-${sfx}`, address: MAC, mtu: MTU, tapName: TAP }],
      metadata: {},
    });
    // QEMU opened the tap by name, with the network's MTU on the NIC.
    const pid = await drv!.pidOf(uuid);
    assert.ok(pid);
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    assert.ok(
      argv.includes(`tap,id=nic-port${sfx}-net,ifname=${TAP},script=no,downscript=no`),
      argv.join(" "),
    );
    const nic = JSON.parse(argv.find((a) => a.includes('"virtio-net-pci"'))!);
    assert.deepEqual([nic.mac, nic.host_mtu], [MAC, MTU]);
    assert.ok(!argv.some((a) => a.startsWith("user,")), "no user-mode NIC");
    const ack = new RegExp(`DHCPACK\\(${VB}\\) ${GUEST_IP.replace(/\./g, "\\.")} ${MAC}`);
    await until(
      "the guest's DHCP request answered",
      async () => ack.test(dnsLog) || (await drv!.getInfo(uuid)).state !== 1,
      BOOT_MS,
    );
    assert.match(
      dnsLog,
      ack,
      `dnsmasq log:\n${dnsLog}\nconsole:\n${(await drv!.getConsoleOutput(uuid)).slice(-3000)}`,
    );
    // The guest's own stack answers for the address it took (ARP from the namespace, through bridge and tap).
    await until(
      "the guest to answer ARP from the namespace",
      () =>
        run(["ip", "netns", "exec", NS, "arping", "-c", "1", "-w", "3", "-I", VB, GUEST_IP], false).status ===
        0,
      120_000,
    ).catch(async (e: Error) => {
      const diag = [
        run(["ip", "-n", NS, "neigh"], false).stdout,
        run(["ip", "-s", "link", "show", TAP], false).stdout,
        (await drv!.getConsoleOutput(uuid)).slice(-4000),
      ].join("\n");
      throw new Error(`${e.message}\n${diag}`);
    });
    const arp = run(["ip", "netns", "exec", NS, "arping", "-c", "1", "-w", "3", "-I", VB, GUEST_IP]).stdout;
    assert.match(arp, new RegExp(`reply from ${GUEST_IP.replace(/\./g, "\\.")} \\[${MAC}\\]`, "i"));
    // Hot-plug: a second port's tap is opened by the running QEMU (the tap gets a carrier) and let go again.
    assert.match(linkOf(TAP2), /NO-CARRIER/);
    const port2 = { id: `port2-${sfx}`, address: MAC2, mtu: MTU, tapName: TAP2 };
    await drv!.attachInterface(uuid, port2);
    assert.match(linkOf(TAP2), /LOWER_UP/);
    assert.doesNotMatch(linkOf(TAP2), /NO-CARRIER/);
    await drv!.detachInterface(uuid, port2.id);
    await until("QEMU to close the detached tap", () => /NO-CARRIER/.test(linkOf(TAP2)), 60_000);
    // A hard reboot starts a new QEMU from the record: the port's tap again, not the detached one.
    await drv!.reboot(uuid, "HARD");
    await until("the rebooted QEMU to open the tap", () => !/NO-CARRIER/.test(linkOf(TAP)), 60_000);
    assert.match(linkOf(TAP2), /NO-CARRIER/);
    await drv!.destroy(uuid);
    // The taps are the network agent's: they outlive the guest, without a carrier.
    assert.match(linkOf(TAP), /NO-CARRIER/);
  },
);
