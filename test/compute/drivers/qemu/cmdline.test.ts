// The QEMU command line: built from a typed spec as argv, every value validated (no QEMU needed).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildQemuArgs, type QemuSpec } from "../../../../src/compute/drivers/qemu/cmdline.js";
import { InvalidQemuSpec } from "../../../../src/compute/drivers/qemu/errors.js";

const UUID = "0b5d4a8e-3c6f-4d2a-9a51-1f2e3d4c5b6a";
const base = (over: Partial<QemuSpec> = {}): QemuSpec => ({
  uuid: UUID,
  accel: "tcg",
  vcpus: 2,
  memoryMb: 256,
  qmpSocket: "/run/i/qmp.sock",
  pidfile: "/run/i/qemu.pid",
  disks: [],
  nics: [],
  ...over,
});

/** The value following `flag` each time it occurs. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
}

describe("buildQemuArgs", () => {
  test("no defaults, paused, daemonized, named by uuid, QMP on a socket", () => {
    const args = buildQemuArgs(base());
    for (const f of ["-nodefaults", "-no-user-config", "-S", "-daemonize"]) assert.ok(args.includes(f), f);
    assert.deepEqual(values(args, "-name"), [`guest=${UUID},debug-threads=on`]);
    assert.deepEqual(values(args, "-machine"), ["q35"]);
    assert.deepEqual(values(args, "-accel"), ["tcg"]);
    assert.deepEqual(values(args, "-cpu"), ["max"]);
    assert.deepEqual(values(args, "-smp"), ["2"]);
    assert.deepEqual(values(args, "-m"), ["256M"]);
    assert.deepEqual(values(args, "-pidfile"), ["/run/i/qemu.pid"]);
    assert.deepEqual(values(args, "-chardev"), ["socket,id=qmp,path=/run/i/qmp.sock,server=on,wait=off"]);
    assert.deepEqual(values(args, "-display"), ["none"]);
    assert.equal(buildQemuArgs(base({ accel: "kvm" })).includes("host"), true);
    assert.deepEqual(values(buildQemuArgs(base({ tcgTbSizeMb: 64 })), "-accel"), ["tcg,tb-size=64"]);
  });

  test("disks are JSON blockdevs (no escaping needed), cdroms on IDE, NICs virtio with validated backends", () => {
    const args = buildQemuArgs(
      base({
        disks: [
          { id: "root", path: "/var/lib/i/disk,file=/etc/shadow", format: "qcow2", bootIndex: 0 },
          { id: "config", path: "/var/lib/i/config.iso", format: "raw", media: "cdrom" },
        ],
        nics: [
          { id: "nic0", mac: "FA:16:3E:00:00:01", backend: { type: "tap", ifname: "tap1234" }, mtu: 1450 },
          {
            id: "nic1",
            mac: "fa:16:3e:00:00:02",
            backend: {
              type: "user",
              hostForwards: [{ hostPort: 2222, guestPort: 22 }],
              guestForwards: [
                { guestAddr: "169.254.169.254", guestPort: 80, hostPort: 8775 },
                { guestAddr: "10.0.2.100", guestPort: 8080, command: ["/usr/bin/nc", "127.0.0.1", "8776"] },
              ],
            },
          },
        ],
      }),
    );
    const blockdevs = values(args, "-blockdev").map((j) => JSON.parse(j) as Record<string, unknown>);
    assert.equal((blockdevs[0].file as { filename: string }).filename, "/var/lib/i/disk,file=/etc/shadow");
    assert.equal(blockdevs[0].driver, "qcow2");
    assert.equal(blockdevs[1]["read-only"], true);
    const devices = values(args, "-device").map((j) => JSON.parse(j) as Record<string, unknown>);
    assert.deepEqual(
      devices.find((d) => d.id === "root"),
      { id: "root", drive: "root-fmt", driver: "virtio-blk-pci", bootindex: 0 },
    );
    assert.equal(devices.find((d) => d.id === "config")?.driver, "ide-cd");
    assert.deepEqual(
      devices.find((d) => d.id === "nic0"),
      {
        driver: "virtio-net-pci",
        id: "nic0",
        netdev: "nic0-net",
        mac: "fa:16:3e:00:00:01",
        romfile: "",
        host_mtu: 1450,
      },
    );
    assert.deepEqual(values(args, "-netdev"), [
      "tap,id=nic0-net,ifname=tap1234,script=no,downscript=no",
      "user,id=nic1-net,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,guestfwd=tcp:169.254.169.254:80-tcp:127.0.0.1:8775," +
        "guestfwd=tcp:10.0.2.100:8080-cmd:/usr/bin/nc 127.0.0.1 8776",
    ]);
  });

  test("serial and VNC sockets, direct kernel boot, commas in key=value paths doubled", () => {
    const args = buildQemuArgs(
      base({
        serialSocket: "/run/a,b/serial.sock",
        vnc: { unixSocket: "/run/i/vnc.sock" },
        kernel: {
          kernel: "/img/vmlinuz",
          initrd: "/img/initrd",
          append: "console=ttyS0 root=/dev/vda1; rm -rf /",
        },
      }),
    );
    assert.ok(
      values(args, "-chardev").includes("socket,id=serial0,path=/run/a,,b/serial.sock,server=on,wait=off"),
    );
    assert.deepEqual(values(args, "-vnc"), ["unix:/run/i/vnc.sock"]);
    assert.deepEqual(values(args, "-append"), ["console=ttyS0 root=/dev/vda1; rm -rf /"]);
    assert.deepEqual(values(args, "-kernel"), ["/img/vmlinuz"]);
    assert.equal(values(args, "-display").length, 0);
    assert.deepEqual(values(buildQemuArgs(base({ vnc: { display: 3, websocketPort: 5703 } })), "-vnc"), [
      "127.0.0.1:3,websocket=127.0.0.1:5703",
    ]);
  });

  test("bad values are refused before anything runs", () => {
    const bad: Array<[string, Partial<QemuSpec>]> = [
      ["uuid", { uuid: "../../etc" }],
      ["vcpus", { vcpus: 0 }],
      ["memory", { memoryMb: 1.5 }],
      ["cpu", { cpuModel: "host,+vmx" }],
      ["relative path", { pidfile: "qemu.pid" }],
      ["newline in path", { qmpSocket: "/run/x\n.sock" }],
      ["long socket path", { qmpSocket: "/" + "x".repeat(120) }],
      ["disk id", { disks: [{ id: "a,b", path: "/d", format: "raw" }] }],
      ["disk format", { disks: [{ id: "d", path: "/d", format: "vmdk" as "raw" }] }],
      [
        "duplicate id",
        {
          disks: [{ id: "d", path: "/d", format: "raw" }],
          nics: [{ id: "d", mac: "fa:16:3e:00:00:01", backend: { type: "tap", ifname: "t" } }],
        },
      ],
      [
        "multicast mac",
        { nics: [{ id: "n", mac: "01:00:5e:00:00:01", backend: { type: "tap", ifname: "t" } }] },
      ],
      [
        "tap name",
        { nics: [{ id: "n", mac: "fa:16:3e:00:00:01", backend: { type: "tap", ifname: "t,script=/x" } }] },
      ],
      [
        "guest forward",
        {
          nics: [
            {
              id: "n",
              mac: "fa:16:3e:00:00:01",
              backend: {
                type: "user",
                guestForwards: [{ guestAddr: "10.0.2.1,x", guestPort: 80, hostPort: 1 }],
              },
            },
          ],
        },
      ],
      [
        "host forward port",
        {
          nics: [
            {
              id: "n",
              mac: "fa:16:3e:00:00:01",
              backend: { type: "user", hostForwards: [{ hostPort: 0, guestPort: 22 }] },
            },
          ],
        },
      ],
      [
        "guest forward command",
        {
          nics: [
            {
              id: "n",
              mac: "fa:16:3e:00:00:01",
              backend: {
                type: "user",
                guestForwards: [{ guestAddr: "10.0.2.1", guestPort: 80, command: ["nc;reboot"] }],
              },
            },
          ],
        },
      ],
      ["append with NUL", { kernel: { kernel: "/k", append: "a\0b" } }],
    ];
    for (const [what, over] of bad) assert.throws(() => buildQemuArgs(base(over)), InvalidQemuSpec, what);
  });

  test("a volume or NIC given a PCI slot gets it as addr (an incoming guest's devices where the source had them)", () => {
    const vol = { id: "vol-a", blockdev: { driver: "raw", "node-name": "vol-a-fmt" }, serial: "a" };
    const nic = { id: "nic0", mac: "fa:16:3e:00:00:01", backend: { type: "user" as const } };
    const args = buildQemuArgs(base({ volumes: [{ ...vol, slot: 6 }], nics: [{ ...nic, slot: 5 }] }));
    const devs = values(args, "-device").map((d) => JSON.parse(d) as { id: string; addr?: string });
    assert.deepEqual(
      devs.filter((d) => ["vol-a", "nic0"].includes(d.id)).map((d) => [d.id, d.addr]),
      [
        ["vol-a", "0x6"],
        ["nic0", "0x5"],
      ],
    );
    assert.equal(
      JSON.parse(values(buildQemuArgs(base({ volumes: [vol] })), "-device").at(-1)!).addr,
      undefined,
    );
    for (const slot of [2, 32, 1.5])
      assert.throws(
        () => buildQemuArgs(base({ volumes: [{ ...vol, slot }] })),
        InvalidQemuSpec,
        `slot ${slot}`,
      );
  });
});
