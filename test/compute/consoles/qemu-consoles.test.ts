// The serial console end to end against a real QEMU (TCG): a tiny firmware that prints a banner and then echoes
// every byte it receives on COM1 with its letter case flipped (so the answer can only come from the guest). The
// driver's ring log reads QEMU's serial socket, the serial console server hangs off it, and the console proxy
// relays a websocket to it with a one-time token; the ring log keeps recording what the console saw. The same
// QEMU's VNC server (loopback) answers an RFB handshake through the proxy's /vnc websocket.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import { WebSocket } from "ws";
import { attachConsoleProxy } from "../../../src/compute/consoles/proxy.js";
import { issueConsoleToken } from "../../../src/compute/consoles/tokens.js";
import { computeMigrations } from "../../../src/compute/migrations/index.js";
import { startQemu, type QemuProcess } from "../../../src/compute/drivers/qemu/process.js";
import {
  serveSerialConsole,
  type SerialConsoleServer,
} from "../../../src/compute/drivers/qemu/serial-console.js";
import { readSerialLog, SerialLog } from "../../../src/compute/drivers/qemu/serial-log.js";
import { migrate, openDatabase, type Database } from "../../../src/shared/db/index.js";
import { reapAndAssertNoOrphans, scratchDir, SKIP_QEMU, testUuid, waitFor } from "../drivers/qemu/helpers.js";

/** A 64 KiB firmware: prints "stratus echo ready\r\n" on COM1, then echoes each received byte XOR 0x20. */
async function writeEchoFirmware(path: string): Promise<string> {
  const code =
    "fab800f08ed8be4000ac84c0741288c4bafd03eca82074fb88e0baf803eeebe9bafd03eca80174fbbaf803ec342088c4bafd03" +
    "eca82074fb88e0baf803eeebe073747261747573206563686f2072656164790d0a00";
  const rom = Buffer.alloc(64 * 1024);
  Buffer.from(code, "hex").copy(rom, 0);
  Buffer.from("ea000000f0", "hex").copy(rom, 0xfff0);
  await writeFile(path, rom);
  return path;
}

/** A free display number: 5900 + n is a loopback port nobody listens on right now. */
async function freeDisplay(): Promise<number> {
  for (let n = 50 + Math.floor(Math.random() * 500); ; n++) {
    const free = await new Promise<boolean>((resolve) => {
      const srv = createNetServer();
      srv.once("error", () => resolve(false));
      srv.listen(5900 + n, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (free) return n;
  }
}

describe("serial and VNC consoles over websocket to a real QEMU", { skip: SKIP_QEMU }, () => {
  let dir = "";
  let cleanup = async () => {};
  let proc: QemuProcess | null = null;
  let log: SerialLog | null = null;
  let serial: SerialConsoleServer | null = null;
  let db: Database | null = null;
  let http: Server | null = null;
  let detach = () => {};
  const uuid = testUuid();
  const live: Buffer[] = [];
  let display = 0;

  before(async () => {
    ({ dir, cleanup } = await scratchDir("sercon"));
    const serialSocket = join(dir, "s.ser");
    display = await freeDisplay();
    proc = await startQemu(
      {
        uuid,
        machine: "pc",
        accel: "tcg",
        vcpus: 1,
        memoryMb: 32,
        qmpSocket: join(dir, "q.qmp"),
        pidfile: join(dir, "q.pid"),
        disks: [],
        nics: [],
        rng: false,
        firmware: await writeEchoFirmware(join(dir, "echo.rom")),
        serialSocket,
        vnc: { display },
      },
      {
        beforeCont: async () => {
          log = await SerialLog.attach(serialSocket, join(dir, "console.log"));
          log.onData((b) => live.push(b));
        },
      },
    );
    await waitFor("the guest's banner", () => Buffer.concat(live).includes("stratus echo ready\r\n"));
    serial = await serveSerialConsole(log!);
    db = await openDatabase(`sqlite://${join(dir, "db.sqlite")}`);
    await migrate(db, "compute", computeMigrations);
    http = createHttpServer((_req, res) => res.writeHead(404).end());
    detach = attachConsoleProxy(http, {
      db: db.kysely,
      publicUrl: () => "http://127.0.0.1",
      allowedOrigins: [],
      log: pino({ level: "silent" }),
    });
    await new Promise<void>((r) => http!.listen(0, "127.0.0.1", r));
  });
  after(async () => {
    detach();
    if (http) await new Promise((r) => http!.close(r));
    await serial?.close();
    await log?.close();
    await proc?.quit();
    await db?.close();
    await reapAndAssertNoOrphans();
    await cleanup();
  });

  test("keystrokes reach the guest and its answer comes back; the ring log records it", async () => {
    const token = await issueConsoleToken(
      db!.kysely,
      {
        instanceUuid: uuid,
        consoleType: "serial",
        computeHost: "h1",
        host: serial!.host,
        port: serial!.port,
      },
      600,
    );
    const port = (http!.address() as AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/serial?token=${token}`);
    const got: Buffer[] = [];
    ws.on("message", (m: Buffer) => got.push(m));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    ws.send("helloStratus"); // a text frame, as a browser terminal sends keystrokes
    await waitFor("the guest's echo", () => Buffer.concat(got).toString("latin1").includes("HELLOsTRATUS"));
    ws.close();
    await log!.flush();
    assert.match(await readSerialLog(join(dir, "console.log")), /stratus echo ready\r\nHELLOsTRATUS/);
    // The guest keeps its console: a second console (new token) works after the first left.
    const again = await issueConsoleToken(
      db!.kysely,
      {
        instanceUuid: uuid,
        consoleType: "serial",
        computeHost: "h1",
        host: serial!.host,
        port: serial!.port,
      },
      600,
    );
    const ws2 = new WebSocket(`ws://127.0.0.1:${port}/serial?token=${again}`);
    const got2: Buffer[] = [];
    ws2.on("message", (m: Buffer) => got2.push(m));
    await new Promise((resolve, reject) => {
      ws2.once("open", resolve);
      ws2.once("error", reject);
    });
    ws2.send(Buffer.from("abc"));
    await waitFor("the second echo", () => Buffer.concat(got2).toString("latin1") === "ABC");
    ws2.close();
  });

  test("QEMU's VNC server answers an RFB handshake through /vnc", async () => {
    const token = await issueConsoleToken(
      db!.kysely,
      {
        instanceUuid: uuid,
        consoleType: "novnc",
        computeHost: "h1",
        host: "127.0.0.1",
        port: 5900 + display,
      },
      600,
    );
    const port = (http!.address() as AddressInfo).port;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/vnc/?token=${token}`, { origin: "http://127.0.0.1" });
    const got: Buffer[] = [];
    ws.on("message", (m: Buffer) => got.push(m));
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    await waitFor("QEMU's RFB version", () => Buffer.concat(got).length >= 12);
    assert.equal(Buffer.concat(got).subarray(0, 12).toString("latin1"), "RFB 003.008\n");
    ws.send("RFB 003.008\n");
    // QEMU offers its security types: at least one, and None (1) since no password is set.
    await waitFor("the security types", () => Buffer.concat(got).length >= 14);
    const types = Buffer.concat(got).subarray(12);
    assert.ok(
      types[0]! >= 1 && types.subarray(1, 1 + types[0]!).includes(1),
      `types ${types.toString("hex")}`,
    );
    ws.close();
  });
});
