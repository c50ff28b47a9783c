// The qemu-system-x86_64 command line, built from a typed spec as an argv array (never a shell string). Every value
// is validated before use: ids, MACs and interface names against tight patterns, paths absolute and free of
// control characters. Block devices and devices are passed as JSON (QEMU >= 6.0), so file names need no escaping;
// the few key=value options that take a path (-chardev, -vnc) double their commas, QEMU's own escape.
//
// QEMU starts with no defaults and no user config, paused (-S) until the supervisor has connected QMP, and daemonized
// with a pidfile so it outlives the agent.
import { isAbsolute } from "node:path";
import { InvalidQemuSpec } from "./errors.js";

/** A unix socket path must fit sockaddr_un.sun_path (108 bytes with the NUL). */
export const MAX_SOCKET_PATH_BYTES = 107;

/** One disk: a file QEMU opens with an explicit format driver. */
export interface QemuDisk {
  /** QEMU id of the device (the block node is `<id>-fmt`/`<id>-file`). */
  id: string;
  path: string;
  format: "qcow2" | "raw";
  readOnly?: boolean;
  /** "disk" (virtio-blk, the default) or "cdrom" (ide-cd on the machine's built-in IDE/AHCI controller). */
  media?: "disk" | "cdrom";
  /** SeaBIOS boot order; the root disk gets 0. */
  bootIndex?: number;
  /** Serial number the guest sees (Nova puts the volume id there); [A-Za-z0-9-], up to 20 characters. */
  serial?: string;
}

/** One volume: a block node given as QMP blockdev options (NBD, iSCSI, file), shown as a virtio disk. */
export interface QemuVolume {
  /** QEMU id of the device; the blockdev options name the node `<id>-fmt`. */
  id: string;
  blockdev: Record<string, unknown>;
  /** The volume id, cut to what virtio-blk keeps (20 characters). */
  serial: string;
  bootIndex?: number;
  /** File holding the CHAP password the blockdev names as `<id>-chap` (iSCSI with CHAP). */
  secretFile?: string;
  /** A multiattach volume: the device lets other writers share the node (share-rw=on). */
  shareRw?: boolean;
  /** PCI slot on bus 0 (an incoming guest's devices sit where the source's were); QEMU picks when absent. */
  slot?: number;
}

/** A host port forwarded into the guest (user networking); the host side is always loopback. */
export interface HostForward {
  proto?: "tcp" | "udp";
  hostPort: number;
  guestPort: number;
}

/**
 * A guest address:port whose TCP connections QEMU forwards (e.g. the metadata service at 169.254.169.254:80).
 * `hostPort`: to a loopback TCP port through a chardev, which QEMU connects ONCE when it starts (the listener must
 * already exist) and shares between guest connections. `command`: QEMU runs `/bin/sh -c <command>` for EACH guest
 * connection with the connection on its stdin/stdout (e.g. a small forwarder); every word must be shell-safe.
 */
export type GuestForward = { guestAddr: string; guestPort: number } & (
  { hostPort: number; command?: undefined } | { command: string[]; hostPort?: undefined }
);

/** A NIC's host side: a tap the network driver created, or restricted QEMU user networking (no route off-host). */
export type QemuNicBackend =
  | { type: "tap"; ifname: string }
  | { type: "user"; hostForwards?: HostForward[]; guestForwards?: GuestForward[]; net?: string };

/** One virtio-net NIC. */
export interface QemuNic {
  id: string;
  mac: string;
  backend: QemuNicBackend;
  mtu?: number;
  /** PCI slot on bus 0, as for volumes. */
  slot?: number;
}

/** Where QEMU serves VNC: a unix socket (the console proxy connects) or loopback TCP with an optional websocket. */
export type QemuVnc = { unixSocket: string } | { display: number; websocketPort?: number };

/** Direct kernel boot (Glance aki/ari images, as Nova does). */
export interface QemuKernelBoot {
  kernel: string;
  initrd?: string;
  append?: string;
}

/** Everything the command line is built from; the driver fills it from the InstanceSpec and its own layout. */
export interface QemuSpec {
  uuid: string;
  machine?: "q35" | "pc";
  accel: "kvm" | "tcg";
  /** TCG translation cache size in MiB (QEMU's default reserves 1 GiB of address space per guest). */
  tcgTbSizeMb?: number;
  /** CPU model; default "host" under KVM and "max" under TCG. */
  cpuModel?: string;
  vcpus: number;
  memoryMb: number;
  qmpSocket: string;
  pidfile: string;
  /** The serial port's chardev socket, read by the driver's ring log (serial-log.ts). */
  serialSocket?: string;
  vnc?: QemuVnc;
  disks: QemuDisk[];
  /** Attached volumes, after the local disks. */
  volumes?: QemuVolume[];
  nics: QemuNic[];
  kernel?: QemuKernelBoot;
  /** A firmware image instead of QEMU's SeaBIOS (-bios). */
  firmware?: string;
  /** Keep QEMU alive when the guest powers off (state "shutdown"), so it can be booted again with system_reset. */
  noShutdown?: boolean;
  /** A virtio-rng fed from /dev/urandom (default true: small guests otherwise wait on entropy for SSH host keys). */
  rng?: boolean;
  /** "defer" to wait for an incoming live migration (migrate-incoming over QMP). */
  incoming?: "defer";
}

const ID_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
const CPU_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const SERIAL_RE = /^[A-Za-z0-9-]{1,20}$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** A word that means itself to /bin/sh and contains no comma (QEMU's option separator). */
const SHELL_WORD_RE = /^[A-Za-z0-9_./:=@%+-]+$/;
const CIDR_RE = /^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/;

function bad(msg: string): never {
  throw new InvalidQemuSpec(msg);
}

function checkId(what: string, id: string): string {
  if (typeof id !== "string" || !ID_RE.test(id))
    bad(`${what} id ${JSON.stringify(id)} is not a valid QEMU id`);
  return id;
}

function checkPath(what: string, path: string, socket = false): string {
  if (typeof path !== "string" || !isAbsolute(path) || hasControlChar(path)) {
    bad(`${what} must be an absolute path without control characters`);
  }
  if (socket && Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    bad(`${what} ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes (unix socket limit)`);
  }
  return path;
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function checkInt(what: string, n: number, min: number, max: number): number {
  if (!Number.isSafeInteger(n) || n < min || n > max) bad(`${what} must be an integer in ${min}..${max}`);
  return n;
}

/** A PCI device's `addr` property for a slot of bus 0 (slots 0-2 hold the host bridge, ISA bridge and VGA). */
function pciAddr(what: string, slot: number): string {
  return `0x${checkInt(what, slot, 3, 31).toString(16)}`;
}

/** QEMU's escape for a value inside a key=value option list: commas are doubled. */
export function escapeOptValue(value: string): string {
  return value.replaceAll(",", ",,");
}

function userNetdev(id: string, b: Extract<QemuNicBackend, { type: "user" }>): string {
  const parts = [`user`, `id=${id}`, `restrict=on`];
  if (b.net !== undefined) {
    if (!CIDR_RE.test(b.net)) bad(`user network ${JSON.stringify(b.net)} is not an IPv4 CIDR`);
    parts.push(`net=${b.net}`);
  }
  for (const f of b.hostForwards ?? []) {
    const proto = f.proto ?? "tcp";
    if (proto !== "tcp" && proto !== "udp") bad(`host forward protocol must be tcp or udp`);
    checkInt("host forward hostPort", f.hostPort, 1, 65535);
    checkInt("host forward guestPort", f.guestPort, 1, 65535);
    parts.push(`hostfwd=${proto}:127.0.0.1:${f.hostPort}-:${f.guestPort}`);
  }
  for (const f of b.guestForwards ?? []) {
    if (!IPV4_RE.test(f.guestAddr)) bad(`guest forward address ${JSON.stringify(f.guestAddr)} is not IPv4`);
    checkInt("guest forward guestPort", f.guestPort, 1, 65535);
    const prefix = `guestfwd=tcp:${f.guestAddr}:${f.guestPort}`;
    if (f.command !== undefined) {
      if (
        !Array.isArray(f.command) ||
        f.command.length === 0 ||
        !f.command.every((w) => SHELL_WORD_RE.test(w))
      ) {
        bad(`guest forward command words must match ${SHELL_WORD_RE}`);
      }
      parts.push(`${prefix}-cmd:${f.command.join(" ")}`);
    } else {
      checkInt("guest forward hostPort", f.hostPort, 1, 65535);
      parts.push(`${prefix}-tcp:127.0.0.1:${f.hostPort}`);
    }
  }
  return parts.join(",");
}

/** The argv (without the executable) that starts the guest described by `spec`. Throws InvalidQemuSpec. */
export function buildQemuArgs(spec: QemuSpec): string[] {
  if (typeof spec.uuid !== "string" || !UUID_RE.test(spec.uuid)) bad(`uuid ${JSON.stringify(spec.uuid)}`);
  const machine = spec.machine ?? "q35";
  if (machine !== "q35" && machine !== "pc") bad(`machine must be q35 or pc`);
  if (spec.accel !== "kvm" && spec.accel !== "tcg") bad(`accel must be kvm or tcg`);
  const cpu = spec.cpuModel ?? (spec.accel === "kvm" ? "host" : "max");
  if (!CPU_RE.test(cpu)) bad(`cpu model ${JSON.stringify(cpu)}`);
  checkInt("vcpus", spec.vcpus, 1, 255);
  checkInt("memoryMb", spec.memoryMb, 16, 4 * 1024 * 1024);

  const args = [
    "-name",
    `guest=${spec.uuid},debug-threads=on`,
    "-uuid",
    spec.uuid,
    "-nodefaults",
    "-no-user-config",
    "-S",
    "-daemonize",
    "-pidfile",
    checkPath("pidfile", spec.pidfile),
    "-machine",
    machine,
    "-accel",
    spec.accel === "tcg" && spec.tcgTbSizeMb !== undefined
      ? `tcg,tb-size=${checkInt("tcgTbSizeMb", spec.tcgTbSizeMb, 1, 4096)}`
      : spec.accel,
  ];
  args.push(
    "-cpu",
    cpu,
    "-smp",
    String(spec.vcpus),
    "-m",
    `${spec.memoryMb}M`,
    "-rtc",
    "base=utc",
    "-boot",
    "strict=on",
    "-msg",
    "timestamp=on",
    "-chardev",
    `socket,id=qmp,path=${escapeOptValue(checkPath("qmpSocket", spec.qmpSocket, true))},server=on,wait=off`,
    "-mon",
    "chardev=qmp,mode=control",
  );
  if (spec.noShutdown) args.push("-no-shutdown");

  if (spec.serialSocket !== undefined) {
    const path = escapeOptValue(checkPath("serialSocket", spec.serialSocket, true));
    args.push(
      "-chardev",
      `socket,id=serial0,path=${path},server=on,wait=off`,
      "-device",
      JSON.stringify({ driver: "isa-serial", chardev: "serial0", id: "serial0-dev" }),
    );
  }

  if (spec.vnc === undefined) args.push("-display", "none");
  else {
    if ("unixSocket" in spec.vnc) {
      args.push("-vnc", `unix:${escapeOptValue(checkPath("vnc socket", spec.vnc.unixSocket, true))}`);
    } else {
      const display = checkInt("vnc display", spec.vnc.display, 0, 59635);
      let vnc = `127.0.0.1:${display}`;
      if (spec.vnc.websocketPort !== undefined) {
        vnc += `,websocket=127.0.0.1:${checkInt("vnc websocketPort", spec.vnc.websocketPort, 1, 65535)}`;
      }
      args.push("-vnc", vnc);
    }
    args.push("-device", JSON.stringify({ driver: "VGA", id: "video0" }));
  }

  if (spec.rng ?? true) {
    args.push(
      "-object",
      JSON.stringify({ "qom-type": "rng-random", id: "rng0", filename: "/dev/urandom" }),
      "-device",
      JSON.stringify({ driver: "virtio-rng-pci", rng: "rng0", id: "rng0-dev" }),
    );
  }

  const ids = new Set<string>();
  const unique = (what: string, id: string) => {
    checkId(what, id);
    if (ids.has(id)) bad(`duplicate device id ${id}`);
    ids.add(id);
  };
  let ide = 0;
  for (const d of spec.disks) {
    unique("disk", d.id);
    if (d.format !== "qcow2" && d.format !== "raw") bad(`disk ${d.id} format must be qcow2 or raw`);
    const readOnly = d.readOnly === true || d.media === "cdrom";
    args.push(
      "-blockdev",
      JSON.stringify({
        driver: d.format,
        "node-name": `${d.id}-fmt`,
        "read-only": readOnly,
        discard: "unmap",
        file: {
          driver: "file",
          filename: checkPath(`disk ${d.id} path`, d.path),
          "node-name": `${d.id}-file`,
          "read-only": readOnly,
        },
      }),
    );
    const dev: Record<string, unknown> = { id: d.id, drive: `${d.id}-fmt` };
    if (d.media === "cdrom") {
      Object.assign(dev, { driver: "ide-cd", bus: `ide.${ide++}` });
      if (ide > (machine === "q35" ? 6 : 2)) bad(`too many cdrom drives for machine ${machine}`);
    } else Object.assign(dev, { driver: "virtio-blk-pci" });
    if (d.bootIndex !== undefined) dev.bootindex = checkInt(`disk ${d.id} bootIndex`, d.bootIndex, 0, 99);
    if (d.serial !== undefined) {
      if (!SERIAL_RE.test(d.serial)) bad(`disk ${d.id} serial ${JSON.stringify(d.serial)}`);
      dev.serial = d.serial;
    }
    args.push("-device", JSON.stringify(dev));
  }

  for (const v of spec.volumes ?? []) {
    unique("volume", v.id);
    if (v.blockdev["node-name"] !== `${v.id}-fmt`) bad(`volume ${v.id} node name`);
    if (!SERIAL_RE.test(v.serial)) bad(`volume ${v.id} serial ${JSON.stringify(v.serial)}`);
    if (v.secretFile) args.push("-object", `secret,id=${v.id}-chap,file=${escapeOptValue(v.secretFile)}`);
    args.push("-blockdev", JSON.stringify(v.blockdev));
    const dev: Record<string, unknown> = {
      driver: "virtio-blk-pci",
      id: v.id,
      drive: `${v.id}-fmt`,
      serial: v.serial,
      ...(v.shareRw ? { "share-rw": true } : {}),
    };
    if (v.bootIndex !== undefined) dev.bootindex = checkInt(`volume ${v.id} bootIndex`, v.bootIndex, 0, 99);
    if (v.slot !== undefined) dev.addr = pciAddr(`volume ${v.id} slot`, v.slot);
    args.push("-device", JSON.stringify(dev));
  }

  for (const n of spec.nics) {
    unique("nic", n.id);
    if (!MAC_RE.test(n.mac) || (parseInt(n.mac.slice(0, 2), 16) & 1) === 1) {
      bad(`nic ${n.id} MAC ${JSON.stringify(n.mac)} is not a unicast MAC address`);
    }
    const netdev = `${n.id}-net`;
    if (n.backend.type === "tap") {
      if (!IFNAME_RE.test(n.backend.ifname)) bad(`nic ${n.id} tap name ${JSON.stringify(n.backend.ifname)}`);
      args.push("-netdev", `tap,id=${netdev},ifname=${n.backend.ifname},script=no,downscript=no`);
    } else if (n.backend.type === "user") {
      args.push("-netdev", userNetdev(netdev, n.backend));
    } else bad(`nic ${n.id} backend type`);
    // romfile "": no iPXE option ROM (the guest never boots from the network; SeaBIOS loading it costs ~1 s
    // under TCG). Hot-plugged NICs (driver-hotplug.ts) say the same, so a live migration finds the same devices.
    const dev: Record<string, unknown> = {
      driver: "virtio-net-pci",
      id: n.id,
      netdev,
      mac: n.mac.toLowerCase(),
      romfile: "",
    };
    if (n.mtu !== undefined) dev.host_mtu = checkInt(`nic ${n.id} mtu`, n.mtu, 68, 65535);
    if (n.slot !== undefined) dev.addr = pciAddr(`nic ${n.id} slot`, n.slot);
    args.push("-device", JSON.stringify(dev));
  }

  if (spec.kernel) {
    args.push("-kernel", checkPath("kernel", spec.kernel.kernel));
    if (spec.kernel.initrd !== undefined) args.push("-initrd", checkPath("initrd", spec.kernel.initrd));
    if (spec.kernel.append !== undefined) {
      if (typeof spec.kernel.append !== "string" || /[\0\n]/.test(spec.kernel.append)) bad(`kernel append`);
      args.push("-append", spec.kernel.append);
    }
  }
  if (spec.firmware !== undefined) args.push("-bios", checkPath("firmware", spec.firmware));
  if (spec.incoming !== undefined) {
    if (spec.incoming !== "defer") bad(`incoming must be "defer"`);
    args.push("-incoming", "defer");
  }
  return args;
}
