// The serial console end to end against a real QEMU (TCG): a tiny firmware that prints a banner and then echoes
// every byte it receives on COM1 with its letter case flipped (so the answer can only come from the guest). The
// driver's ring log reads QEMU's serial socket, the serial console server hangs off it, and the console proxy
// relays a websocket to it with a one-time token; the ring log keeps recording what the console saw.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
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

describe("serial console over websocket to a real QEMU", { skip: SKIP_QEMU }, () => {
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

  before(async () => {
    ({ dir, cleanup } = await scratchDir("sercon"));
    const serialSocket = join(dir, "s.ser");
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
});
