// The qemu driver's NICs from its VIFs: a VIF with a tap (the network agent made it) opens that tap with the
// network's MTU; one without keeps restricted user networking, and only a user-mode first NIC carries the SSH
// forward and the metadata guestfwd. No QEMU runs here: the command line is built and read.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildQemuArgs } from "../../../../src/compute/drivers/qemu/cmdline.js";
import { QemuCore } from "../../../../src/compute/drivers/qemu/driver-core.js";
import type { InstanceRecord } from "../../../../src/compute/drivers/qemu/driver-layout.js";
import { driverVifs } from "../../../../src/compute/networking/vifs.js";
import type { VifInfo } from "../../../../src/compute/instances/store.js";

let dir = "";
let core: QemuCore;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "stratus-tapnics-"));
  core = new QemuCore({ stateDir: dir });
});
after(() => rm(dir, { recursive: true, force: true }));

const UUID = "6f1d3a52-8c1e-4a51-9a7e-3c2b1d0e9f11";
const rec = (vifs: InstanceRecord["vifs"]): InstanceRecord => ({
  uuid: UUID,
  name: "t",
  vcpus: 1,
  memoryMb: 128,
  rootGb: 1,
  projectId: "p",
  imageId: "i",
  root: { path: join(dir, "disk"), format: "qcow2" },
  vifs,
  sshPort: 2222,
  vncPort: 5901,
  websocketPort: 6001,
});
const cache = (portId: string, tap: boolean): VifInfo => ({
  portId,
  networkId: "n1",
  networkName: "private",
  mac: "fa:16:3e:00:00:01",
  mtu: 1450,
  devname: `tap${portId.slice(0, 11)}`,
  ips: [{ address: "10.0.0.5", version: 4 }],
  vifType: "tap",
  vifDetails: tap
    ? { connectivity: "l2", port_filter: true, tap_name: `tap${portId.slice(0, 11)}` }
    : { connectivity: "l2" },
  preserveOnDelete: false,
});
const netdevs = (args: string[]) => args.filter((_, i) => args[i - 1] === "-netdev");
const nicDevices = (args: string[]) =>
  args
    .filter((a, i) => args[i - 1] === "-device" && a.includes("virtio-net"))
    .map((a) => JSON.parse(a) as Record<string, unknown>);

test("driverVifs: a tap VIF's tap_name becomes tapName; a noop binding (no tap_name) or another type has none", () => {
  const [withTap, without] = driverVifs([
    cache("aaaaaaaa-1111-2222-3333-444444444444", true),
    cache("bbbbbbbb-1111", false),
  ]);
  assert.equal(withTap.tapName, "tapaaaaaaaa-11");
  assert.equal(without.tapName, undefined);
  const other = driverVifs([{ ...cache("cccccccc-1111", true), vifType: "ovs" }])[0];
  assert.equal(other.tapName, undefined);
  const bad = driverVifs([
    { ...cache("dddddddd-1111", true), vifDetails: { tap_name: "tap x;rm -rf /" } },
  ])[0];
  assert.equal(bad.tapName, undefined, "a name no interface can have is not used");
  // An older cache (no binding recorded) keeps user networking.
  const old = { ...cache("eeeeeeee-1111", true) } as Partial<VifInfo>;
  delete old.vifType;
  delete old.vifDetails;
  assert.equal(driverVifs([old as VifInfo])[0].tapName, undefined);
});

test("a tap first NIC: -netdev tap by name with the network's MTU, and no SSH or metadata forwards", () => {
  const vifs = driverVifs([
    cache("aaaaaaaa-1111-2222-3333-444444444444", true),
    cache("bbbbbbbb-1111", false),
  ]);
  const args = buildQemuArgs(core.qemuSpec(rec(vifs), true));
  const [first, second] = netdevs(args);
  assert.equal(
    first,
    "tap,id=nic-aaaaaaaa1111222233334444-net,ifname=tapaaaaaaaa-11,script=no,downscript=no",
  );
  assert.match(second, /^user,/);
  assert.doesNotMatch(second, /hostfwd|guestfwd/);
  const devs = nicDevices(args);
  assert.deepEqual(
    devs.map((d) => [d.netdev, d.mac, d.host_mtu]),
    [
      ["nic-aaaaaaaa1111222233334444-net", "fa:16:3e:00:00:01", 1450],
      ["nic-bbbbbbbb1111-net", "fa:16:3e:00:00:01", 1450],
    ],
  );
});

test("a user-mode first NIC keeps the SSH forward and the metadata guestfwd, a tap second NIC opens its tap", () => {
  const vifs = driverVifs([
    cache("bbbbbbbb-1111", false),
    cache("aaaaaaaa-1111-2222-3333-444444444444", true),
  ]);
  const [first, second] = netdevs(buildQemuArgs(core.qemuSpec(rec(vifs), true)));
  assert.match(first, /^user,.*restrict=on/);
  assert.match(first, /hostfwd=tcp:127\.0\.0\.1:2222-:22/);
  assert.match(first, /guestfwd=tcp:169\.254\.169\.254:80-cmd:/);
  assert.match(second, /^tap,.*ifname=tapaaaaaaaa-11,/);
});

test("no VIF at all: one user-mode NIC as before", () => {
  const args = buildQemuArgs(core.qemuSpec(rec([]), false));
  const nd = netdevs(args);
  assert.equal(nd.length, 1);
  assert.match(nd[0], /^user,id=nic0-net/);
});
