// The QEMU supervisor against a real QEMU (TCG, tiny guests): start paused then cont, detached from the agent,
// re-adopt, identity checks, failed starts leave nothing behind; the serial ring log; a disk attached to a guest.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import type { QemuSpec } from "../../../../src/compute/drivers/qemu/cmdline.js";
import { createRootDisk } from "../../../../src/compute/drivers/qemu/disks.js";
import { NotOurQemu, QemuStartFailed } from "../../../../src/compute/drivers/qemu/errors.js";
import {
  adoptQemu,
  isOurQemu,
  startQemu,
  type QemuProcess,
} from "../../../../src/compute/drivers/qemu/process.js";
import { readSerialLog, SerialLog } from "../../../../src/compute/drivers/qemu/serial-log.js";
import { PowerState } from "../../../../src/compute/drivers/types.js";
import {
  SKIP_QEMU,
  SKIP_QEMU_IMG,
  qemuPidsFor,
  reapAndAssertNoOrphans,
  scratchDir,
  testUuid,
  waitFor,
  writeSerialFirmware,
} from "./helpers.js";

/** A loopback TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe("QEMU supervisor", { skip: SKIP_QEMU }, () => {
  let dir = "";
  let cleanup = async () => {};
  let firmware = "";
  const timings: number[] = [];
  before(async () => {
    ({ dir, cleanup } = await scratchDir("proc"));
    firmware = await writeSerialFirmware(join(dir, "serial.rom"));
  });
  after(async () => {
    if (timings.length)
      console.log(`# QEMU spawn -> QMP ready: ${timings.map((t) => `${Math.round(t)} ms`).join(", ")}`);
    await reapAndAssertNoOrphans();
    await cleanup();
  });

  const spec = (uuid: string, over: Partial<QemuSpec> = {}): QemuSpec => ({
    uuid,
    machine: "pc",
    accel: "tcg",
    vcpus: 1,
    memoryMb: 32,
    qmpSocket: join(dir, `${uuid.slice(0, 8)}.qmp`),
    pidfile: join(dir, `${uuid.slice(0, 8)}.pid`),
    disks: [],
    nics: [],
    rng: false,
    firmware,
    ...over,
  });

  test("starts paused, connects QMP, conts; runs in its own session; quit leaves nothing behind", async () => {
    const uuid = testUuid();
    const s = spec(uuid);
    let resumedBeforeCont = true;
    const proc = await startQemu(s, {
      beforeCont: async (p) => {
        resumedBeforeCont = (await p.runState()) !== "prelaunch";
      },
    });
    try {
      timings.push(proc.startupMs);
      assert.equal(resumedBeforeCont, false);
      assert.equal(await proc.powerState(), PowerState.RUNNING);
      assert.deepEqual(qemuPidsFor(uuid), [proc.pid]);
      assert.equal(isOurQemu(proc.pid, uuid), true);
      assert.equal(isOurQemu(proc.pid, testUuid()), false);
      assert.equal(isOurQemu(process.pid, uuid), false);
      // Detached: not our child, and in a session of its own (so killing the agent's group spares it).
      const fields = (pid: number | "self") =>
        readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      const [ppid, , sid] = fields(proc.pid).slice(1, 4).map(Number);
      assert.notEqual(ppid, process.pid);
      assert.notEqual(sid, Number(fields("self")[3]));
      await assert.rejects(startQemu(s), QemuStartFailed, "a second QEMU for the same instance");
    } finally {
      await proc.quit();
    }
    assert.equal(proc.isAlive(), false);
    assert.deepEqual(qemuPidsFor(uuid), []);
    assert.equal(existsSync(s.qmpSocket), false);
    assert.equal(existsSync(s.pidfile), false);
  });

  test("a restarted agent re-adopts the running QEMU; a stale or foreign pidfile is refused", async () => {
    const uuid = testUuid();
    const s = spec(uuid);
    const first = await startQemu(s, { paused: true });
    let adopted: QemuProcess | null = null;
    try {
      timings.push(first.startupMs);
      first.qmp.close(); // the agent "dies": only the QMP connection goes
      await first.qmp.closed;
      adopted = await adoptQemu({ uuid, pidfile: s.pidfile, qmpSocket: s.qmpSocket });
      assert.equal(adopted.pid, first.pid);
      assert.equal(await adopted.powerState(), PowerState.PAUSED, "adoption does not change the power state");
      await assert.rejects(
        adoptQemu({ uuid: testUuid(), pidfile: s.pidfile, qmpSocket: s.qmpSocket }),
        NotOurQemu,
      );
      const foreign = join(dir, "foreign.pid");
      await writeFile(foreign, `${process.pid}\n`);
      await assert.rejects(adoptQemu({ uuid, pidfile: foreign, qmpSocket: s.qmpSocket }), NotOurQemu);
      await assert.rejects(
        adoptQemu({ uuid, pidfile: join(dir, "none.pid"), qmpSocket: s.qmpSocket }),
        NotOurQemu,
      );
    } finally {
      await (adopted ?? first).kill();
    }
    assert.deepEqual(qemuPidsFor(uuid), []);
    assert.equal(existsSync(s.qmpSocket), false);
    await assert.rejects(adoptQemu({ uuid, pidfile: s.pidfile, qmpSocket: s.qmpSocket }), NotOurQemu);
  });

  test("the guest outlives its agent killed with SIGKILL (with its whole process group)", async () => {
    const uuid = testUuid();
    const s = spec(uuid);
    // A stand-in agent: a separate node process that starts the QEMU, reports its pid, and waits to be killed.
    const processJs = fileURLToPath(
      new URL("../../../../src/compute/drivers/qemu/process.js", import.meta.url),
    );
    const script =
      `const { startQemu } = await import(${JSON.stringify(processJs)});` +
      `const p = await startQemu(JSON.parse(process.argv[1]));` +
      `process.stdout.write(String(p.pid) + "\\n"); setInterval(() => {}, 1000);`;
    const agent = spawn(process.execPath, ["--input-type=module", "-e", script, JSON.stringify(s)], {
      detached: true,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    agent.stdout.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise((r) => agent.on("exit", r));
    const pid = Number(await waitFor("the agent's QEMU pid", () => /\n/.test(out) && out.trim()));
    process.kill(-agent.pid!, "SIGKILL");
    await exited;
    let adopted: QemuProcess | null = null;
    try {
      assert.deepEqual(qemuPidsFor(uuid), [pid], "QEMU survived the agent");
      adopted = await adoptQemu({ uuid, pidfile: s.pidfile, qmpSocket: s.qmpSocket });
      assert.equal(adopted.pid, pid);
      assert.equal(await adopted.powerState(), PowerState.RUNNING);
    } finally {
      if (adopted) await adopted.quit();
    }
    assert.deepEqual(qemuPidsFor(uuid), []);
  });

  test("a QEMU that cannot start leaves no process, socket or pidfile; its error is reported", async () => {
    const uuid = testUuid();
    const s = spec(uuid, { kernel: { kernel: join(dir, "no-such-kernel") } });
    await assert.rejects(
      startQemu(s),
      (e: unknown) => e instanceof QemuStartFailed && /no-such-kernel/.test(e.message),
    );
    assert.deepEqual(qemuPidsFor(uuid), []);
    assert.equal(existsSync(s.qmpSocket), false);
    assert.equal(existsSync(s.pidfile), false);
  });

  test("a failing beforeCont kills the paused QEMU", async () => {
    const uuid = testUuid();
    const s = spec(uuid);
    await assert.rejects(
      startQemu(s, {
        beforeCont: () => Promise.reject(new Error("serial attach failed")),
      }),
      (e: unknown) => e instanceof QemuStartFailed && /serial attach failed/.test(e.message),
    );
    assert.deepEqual(qemuPidsFor(uuid), []);
    assert.equal(existsSync(s.pidfile), false);
  });

  test("the serial ring log captures the guest's output, stays bounded, and survives a re-attach", async () => {
    const uuid = testUuid();
    const serialSocket = join(dir, `${uuid.slice(0, 8)}.ser`);
    const logPath = join(dir, `${uuid.slice(0, 8)}.log`);
    const s = spec(uuid, { serialSocket });
    let log: SerialLog | null = null;
    const live: Buffer[] = [];
    const proc = await startQemu(s, {
      beforeCont: async () => {
        log = await SerialLog.attach(serialSocket, logPath, { maxBytes: 4096 });
        log.onData((b) => live.push(b));
      },
    });
    try {
      timings.push(proc.startupMs);
      const line = "stratus serial test line\r\n";
      // The firmware prints 2000 lines (52000 bytes) and halts.
      await waitFor("all serial output", () => live.reduce((n, b) => n + b.length, 0) >= 2000 * line.length);
      await log!.flush();
      const size = (await stat(logPath)).size;
      assert.ok(size <= 2 * 4096, `log is bounded (${size} bytes)`);
      const text = await readSerialLog(logPath, 4096);
      assert.ok(text.length > 0 && text.length <= 4096);
      assert.ok(text.startsWith("stratus serial test line"), "the tail starts at a line boundary");
      assert.ok(text.endsWith(line));
      await log!.close();
      // A new agent appends to the same file.
      const again = await SerialLog.attach(serialSocket, logPath, { maxBytes: 4096 });
      await again.close();
      assert.equal(await readSerialLog(logPath, 4096), text);
    } finally {
      await proc.quit();
    }
    assert.equal(existsSync(serialSocket), false);
    assert.equal(await readSerialLog(join(dir, "absent.log")), "");
  });

  test("QEMU accepts every option the spec can express (user NIC, VNC socket, cdrom, rng, tb-size)", async () => {
    const uuid = testUuid();
    const short = uuid.slice(0, 8);
    const iso = join(dir, `${short}.iso`);
    await writeFile(iso, Buffer.alloc(64 * 1024));
    const port = await freePort();
    // A chardev guestfwd connects to its target when QEMU starts, so the target must be listening.
    const target = createServer((c) => c.destroy());
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    const targetPort = (target.address() as AddressInfo).port;
    const proc = await startQemu(
      spec(uuid, {
        machine: "q35",
        tcgTbSizeMb: 32,
        rng: true,
        noShutdown: true,
        serialSocket: join(dir, `${short}.ser`),
        vnc: { unixSocket: join(dir, `${short}.vnc`) },
        disks: [{ id: "config", path: iso, format: "raw", media: "cdrom" }],
        nics: [
          {
            id: "nic0",
            mac: "fa:16:3e:12:34:56",
            mtu: 1400,
            backend: {
              type: "user",
              net: "10.0.2.0/24",
              hostForwards: [{ hostPort: port, guestPort: 22 }],
              guestForwards: [
                { guestAddr: "10.0.2.100", guestPort: 80, hostPort: targetPort },
                { guestAddr: "10.0.2.101", guestPort: 80, command: ["/bin/cat"] },
              ],
            },
          },
        ],
      }),
      { paused: true },
    );
    try {
      assert.equal(await proc.runState(), "prelaunch");
      const vnc = await proc.qmp.execute("query-vnc");
      assert.equal(vnc.enabled, true);
      const chardevs = await proc.qmp.execute("query-chardev");
      assert.ok(chardevs.some((c) => c.label === "serial0"));
      const pci = await proc.qmp.execute<Array<{ devices: Array<{ qdev_id: string }> }>>("query-pci");
      const ids = pci.flatMap((b) => b.devices.map((d) => d.qdev_id));
      for (const id of ["nic0", "rng0-dev", "video0"])
        assert.ok(ids.includes(id), `${id} in ${ids.join(",")}`);
      const blocks = await proc.qmp.execute("query-block");
      assert.ok(blocks.some((b) => b.qdev?.includes("config")));
    } finally {
      await proc.quit();
      await new Promise((r) => target.close(r));
    }
    assert.deepEqual(qemuPidsFor(uuid), []);
    assert.equal(existsSync(join(dir, `${short}.vnc`)), false);
  });

  test("a guest boots with a qcow2 overlay as its virtio root disk", { skip: SKIP_QEMU_IMG }, async () => {
    const uuid = testUuid();
    const basePath = join(dir, "base.raw");
    await writeFile(basePath, Buffer.alloc(1024 * 1024, 0xab));
    const root = await createRootDisk(
      { id: "img", path: basePath, format: "raw", virtualSize: 1024 * 1024 },
      join(dir, `${uuid.slice(0, 8)}.qcow2`),
      1,
    );
    const proc = await startQemu(
      spec(uuid, {
        machine: "q35",
        disks: [{ id: "root", path: root.path, format: root.format, bootIndex: 0 }],
      }),
    );
    try {
      timings.push(proc.startupMs);
      const blocks = await proc.qmp.execute("query-block");
      const rootDev = blocks.find((b) => b.qdev?.includes("root"));
      assert.ok(rootDev, JSON.stringify(blocks));
      const inserted = rootDev.inserted as {
        file: string;
        image: { "backing-filename"?: string; "virtual-size": number };
      };
      assert.equal(inserted.image["virtual-size"], 1024 ** 3);
      assert.equal(inserted.image["backing-filename"], basePath);
    } finally {
      await proc.quit();
    }
    assert.ok((await readFile(root.path)).length > 0);
  });
});
