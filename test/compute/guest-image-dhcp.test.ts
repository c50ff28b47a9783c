// The guest image's DHCP client against a real DHCP server: a guest (TCG, direct kernel boot) with two NICs on taps
// in a bridge of a network namespace made here, where dnsmasq serves leases with the classless static routes
// option (121) to the first NIC and Microsoft's (249) to the second, a router (3) that 121/249 must override, MTU
// (26), DNS (6), domain (15) and a hostname (12); then a third NIC hot-plugged over QMP. A user-data script from
// the config drive (which names no hostname) prints the guest's addresses, routes, links, resolv.conf and hostname
// on the console between markers. Everything (guest, dnsmasq, namespace) is removed afterwards.
import { strict as assert } from "node:assert";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ensureGuestImage, type GuestImage } from "../../src/compute/guest-image.js";
import { until } from "../helpers/wait.js";
import {
  BOOT_TIMEOUT_MS,
  configDrive,
  Guest,
  has,
  killAllGuests,
  overlay,
  skipGuestTests,
} from "./guest-image-qemu.js";

const skip = skipGuestTests || (!process.env.CI && !has("dnsmasq") ? "dnsmasq is not installed" : false);
const work = mkdtempSync(join(tmpdir(), "stratus-guest-dhcp-"));
const ns = `stratus-gdhcp-${process.pid}`;
const MACS = ["52:54:00:d0:00:01", "52:54:00:d0:00:02", "52:54:00:d0:00:03"];
let dnsmasq: ChildProcess | undefined;

const ipns = (...args: string[]) => execFileSync("ip", ["-n", ns, ...args], { stdio: "pipe" });

after(async () => {
  await killAllGuests();
  dnsmasq?.kill("SIGKILL");
  try {
    execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
  } catch {
    // never created
  }
  rmSync(work, { recursive: true, force: true });
});

/** Prints the network state between "STATE-BEGIN name" and "STATE-END name" lines (a user-data shell function). */
const STATE = `state() {
  echo "STATE-BEGIN $1"
  ip -4 -o addr show | sed 's/^/addr: /'
  ip -4 route show | sed 's/^/route: /'
  ip -o link show | sed 's/^/link: /'
  sed 's/^/resolv: /' /etc/resolv.conf
  echo "hostname: $(hostname)"
  ls /var/run/udhcpc.*.pid | sed 's/^/pidfile: /'
  echo "STATE-END $1"
}`;

/** Waits for the console's state block `name`; returns its lines. */
async function state(g: Guest, name: string): Promise<string[]> {
  const m = await g.waitConsole(new RegExp(`STATE-BEGIN ${name}\\r?\\n([\\s\\S]*?)STATE-END ${name}`));
  return m[1].split(/\r?\n/).filter((l) => l.trim() !== "");
}

/** The guest's interface name with `mac`, from the state's `ip -o link` lines. */
function ifname(lines: string[], mac: string): string {
  const l = lines.find((x) => x.startsWith("link: ") && x.includes(`link/ether ${mac}`));
  assert.ok(l, `no NIC with MAC ${mac}:\n${lines.join("\n")}`);
  return /^link: \d+: ([^:@]+)/.exec(l)![1];
}

describe(
  "guest image: DHCP client (routes 121/249, MTU, DNS, hostname, all and hot-plugged NICs)",
  { skip },
  () => {
    let image: GuestImage;

    before(async () => {
      image = await ensureGuestImage({ onProgress: (l) => process.stderr.write(`# guest-image: ${l}\n`) });
      execFileSync("ip", ["netns", "add", ns]);
      ipns("link", "set", "lo", "up");
      ipns("link", "add", "br0", "type", "bridge");
      ipns("addr", "add", "10.99.0.1/24", "dev", "br0");
      ipns("link", "set", "br0", "up");
      for (const t of ["tap0", "tap1", "tap2"]) {
        ipns("tuntap", "add", "dev", t, "mode", "tap");
        ipns("link", "set", t, "master", "br0", "up");
      }
      // prettier-ignore
      const args = [
      "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
      "--interface=br0", "--bind-interfaces", `--dhcp-leasefile=${join(work, "leases")}`,
      `--pid-file=${join(work, "dnsmasq.pid")}`, "--dhcp-range=10.99.0.100,10.99.0.150,255.255.255.0,1h",
      `--dhcp-host=${MACS[0]},10.99.0.21,dhcphost`, `--dhcp-host=${MACS[1]},set:ms,10.99.0.22`,
      `--dhcp-host=${MACS[2]},10.99.0.23`,
      "--dhcp-option=3,10.99.0.254",
      "--dhcp-option=tag:!ms,121,169.254.169.254/32,10.99.0.1,10.98.0.0/16,0.0.0.0,0.0.0.0/0,10.99.0.1",
      "--dhcp-option=tag:ms,249,10.97.0.0/16,10.99.0.1,10.96.5.5/32,0.0.0.0",
      "--dhcp-option=26,1400", "--dhcp-option=6,10.99.0.53", "--dhcp-option=15,stratus.test",
    ];
      dnsmasq = spawn("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      dnsmasq.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(dnsmasq.exitCode, null, `dnsmasq exited: ${err}`);
    });

    it("applies every option on every NIC, and DHCPs a NIC plugged later", async () => {
      // No hostname in the metadata: DHCP's applies. The user-data waits for both leases, then for a third NIC's.
      const userData = `#!/bin/sh
${STATE}
i=0
while [ $i -lt 600 ] && ! { [ -f /run/stratus/lease.eth0 ] && [ -f /run/stratus/lease.eth1 ]; }; do
  sleep 0.1; i=$((i + 1))
done
state boot
(
  i=0
  while [ $i -lt 1800 ] && [ "$(ls /run/stratus/lease.* | wc -l)" -lt 3 ]; do sleep 0.1; i=$((i + 1)); done
  state hotplug
) &
`;
      const cd = configDrive(
        work,
        { uuid: "0d5c3e8a-7f1b-4c2e-9a6d-3b8e1f2a4c5d", public_keys: {} },
        userData,
      );
      const g = await Guest.start({
        dir: join(work, "g"),
        disks: [
          { path: overlay(image.disk, join(work, "disk.qcow2")) },
          { path: cd, format: "raw", readOnly: true },
        ],
        kernel: {
          kernel: image.kernel,
          initrd: image.ramdisk,
          append: "root=/dev/vda console=tty0 console=ttyS0",
        },
        netns: ns,
        userNet: false,
        taps: [
          { ifname: "tap0", mac: MACS[0] },
          { ifname: "tap1", mac: MACS[1] },
        ],
      });
      const boot = await state(g, "boot");
      const text = boot.join("\n");
      const [e0, e1] = [ifname(boot, MACS[0]), ifname(boot, MACS[1])];
      assert.match(text, new RegExp(`^addr: \\d+: ${e0}\\s+inet 10\\.99\\.0\\.21/24 `, "m"), text);
      assert.match(text, new RegExp(`^addr: \\d+: ${e1}\\s+inet 10\\.99\\.0\\.22/24 `, "m"), text);
      // 121: the default route and the metadata host route via its gateway, an on-link network; router ignored.
      assert.match(text, new RegExp(`^route: default via 10\\.99\\.0\\.1 dev ${e0}`, "m"), text);
      assert.match(
        text,
        new RegExp(`^route: 169\\.254\\.169\\.254 via 10\\.99\\.0\\.1 dev ${e0}`, "m"),
        text,
      );
      assert.match(text, new RegExp(`^route: 10\\.98\\.0\\.0/16 dev ${e0} scope link`, "m"), text);
      assert.doesNotMatch(text, /10\.99\.0\.254/, text);
      // 249 on the second NIC: a network via a gateway and an on-link host route.
      assert.match(text, new RegExp(`^route: 10\\.97\\.0\\.0/16 via 10\\.99\\.0\\.1 dev ${e1}`, "m"), text);
      assert.match(text, new RegExp(`^route: 10\\.96\\.5\\.5 dev ${e1} scope link`, "m"), text);
      for (const e of [e0, e1]) {
        assert.match(text, new RegExp(`^link: \\d+: ${e}: .* mtu 1400 `, "m"), text);
        assert.match(text, new RegExp(`^pidfile: /var/run/udhcpc\\.${e}\\.pid$`, "m"), text);
      }
      assert.match(text, /^resolv: nameserver 10\.99\.0\.53$/m, text);
      assert.match(text, /^resolv: search stratus\.test$/m, text);
      assert.match(text, /^hostname: dhcphost$/m, text);

      await g.qmp("netdev_add", { type: "tap", id: "t2", ifname: "tap2", script: "no", downscript: "no" });
      await g.qmp("device_add", {
        driver: "virtio-net-pci",
        id: "nic2",
        netdev: "t2",
        mac: MACS[2],
        romfile: "",
      });
      const hot = await state(g, "hotplug");
      const e2 = ifname(hot, MACS[2]);
      assert.match(
        hot.join("\n"),
        new RegExp(`^addr: \\d+: ${e2}\\s+inet 10\\.99\\.0\\.23/24 `, "m"),
        hot.join("\n"),
      );
      // The default route stays on the first NIC.
      assert.match(hot.join("\n"), new RegExp(`^route: default via 10\\.99\\.0\\.1 dev ${e0}`, "m"));
      await until("the guest to be killed", async () => (await g.kill(), true), BOOT_TIMEOUT_MS);
    });
  },
);
