// The QMP client: protocol edge cases against a fake QMP server, then the real thing against a paused QEMU.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  QmpClient,
  QmpClosedError,
  QmpCommandError,
  QmpProtocolError,
  QmpTimeoutError,
} from "../../../../src/compute/drivers/qemu/qmp.js";
import { killPid, waitForExit } from "../../../../src/compute/drivers/qemu/process.js";
import { SKIP_QEMU, reapAndAssertNoOrphans, scratchDir, testUuid, waitFor } from "./helpers.js";

const GREETING = {
  QMP: { version: { qemu: { major: 7, minor: 2, micro: 1 }, package: "fake" }, capabilities: [] },
};

/** A scripted QMP server: `onCommand` sees each parsed command and the raw socket to answer however it likes. */
async function fakeServer(
  path: string,
  onCommand: (cmd: { execute: string; id?: string; arguments?: unknown }, sock: Socket) => void,
  greeting: string = JSON.stringify(GREETING) + "\r\n",
): Promise<{ server: Server; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.write(greeting);
    let buf = "";
    sock.on("data", (b) => {
      buf += b.toString();
      for (let nl = buf.indexOf("\n"); nl !== -1; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const cmd = JSON.parse(line) as { execute: string; id?: string };
        if (cmd.execute === "qmp_capabilities")
          sock.write(JSON.stringify({ return: {}, id: cmd.id }) + "\r\n");
        else onCommand(cmd, sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { server, sockets };
}

async function stop(s: { server: Server; sockets: Set<Socket> }): Promise<void> {
  for (const sock of s.sockets) sock.destroy();
  await new Promise((r) => s.server.close(r));
}

describe("QMP client against a fake server", () => {
  let dir = "";
  let cleanup = async () => {};
  let n = 0;
  const sock = () => join(dir, `f${n++}.sock`);
  before(async () => ({ dir, cleanup } = await scratchDir("qmpfake")));
  after(() => cleanup());

  test("replies split across writes, merged with events, and out-of-order events are handled", async () => {
    const path = sock();
    const srv = await fakeServer(path, (cmd, s) => {
      const reply = JSON.stringify({ return: { status: "running", running: true }, id: cmd.id }) + "\r\n";
      const ev = (name: string) =>
        JSON.stringify({ event: name, data: { n: 1 }, timestamp: { seconds: 1, microseconds: 2 } }) + "\r\n";
      // An event, then the reply cut in three pieces with another event glued to its last piece.
      const whole = ev("STOP") + reply + ev("RESUME");
      s.write(whole.slice(0, 5));
      setTimeout(() => s.write(whole.slice(5, 60)), 5);
      setTimeout(() => s.write(whole.slice(60)), 10);
    });
    const qmp = await QmpClient.connect(path);
    try {
      assert.deepEqual(qmp.version, { major: 7, minor: 2, micro: 1, package: "fake" });
      const seen: string[] = [];
      qmp.on("*", (e) => seen.push(e.event));
      const resumed = qmp.waitForEvent("RESUME", { timeoutMs: 5_000 });
      const st = await qmp.execute("query-status");
      assert.equal(st.status, "running");
      await resumed;
      assert.deepEqual(seen, ["STOP", "RESUME"]);
    } finally {
      qmp.close();
      await stop(srv);
    }
  });

  test("commands are serialized, each gets its own reply, errors are typed", async () => {
    const path = sock();
    let inFlight = 0;
    let maxInFlight = 0;
    const srv = await fakeServer(path, (cmd, s) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        if (cmd.execute === "bad") {
          s.write(JSON.stringify({ error: { class: "DeviceNotFound", desc: "no such" }, id: cmd.id }) + "\n");
        } else s.write(JSON.stringify({ return: cmd.execute, id: cmd.id }) + "\n");
      }, 3);
    });
    const qmp = await QmpClient.connect(path);
    try {
      const results = await Promise.allSettled([
        qmp.execute("a"),
        qmp.execute("bad"),
        qmp.execute("c"),
        qmp.execute("d"),
      ]);
      assert.equal(maxInFlight, 1);
      assert.deepEqual(
        results.map((r) => (r.status === "fulfilled" ? r.value : "rejected")),
        ["a", "rejected", "c", "d"],
      );
      const err = (results[1] as PromiseRejectedResult).reason as QmpCommandError;
      assert.ok(err instanceof QmpCommandError);
      assert.equal(err.errorClass, "DeviceNotFound");
      assert.equal(err.desc, "no such");
    } finally {
      qmp.close();
      await stop(srv);
    }
  });

  test("a reply without an id belongs to the command in flight", async () => {
    const path = sock();
    const srv = await fakeServer(path, (_cmd, s) => {
      s.write(JSON.stringify({ error: { class: "GenericError", desc: "JSON parse error" } }) + "\r\n");
    });
    const qmp = await QmpClient.connect(path);
    try {
      await assert.rejects(
        qmp.execute("x"),
        (e: unknown) => e instanceof QmpCommandError && /parse/.test(e.desc),
      );
    } finally {
      qmp.close();
      await stop(srv);
    }
  });

  test("a timed-out command's late reply is not taken for the next command's", async () => {
    const path = sock();
    const srv = await fakeServer(path, (cmd, s) => {
      const delay = cmd.execute === "slow" ? 150 : 0;
      setTimeout(() => s.write(JSON.stringify({ return: cmd.execute, id: cmd.id }) + "\n"), delay);
    });
    const qmp = await QmpClient.connect(path);
    try {
      const slow = qmp.execute("slow", undefined, { timeoutMs: 20 });
      const next = qmp.execute("fast");
      await assert.rejects(slow, QmpTimeoutError);
      assert.equal(await next, "fast");
    } finally {
      qmp.close();
      await stop(srv);
    }
  });

  test("the socket closing rejects the command in flight, queued ones and event waits", async () => {
    const path = sock();
    const srv = await fakeServer(path, (_cmd, s) => setTimeout(() => s.destroy(), 5));
    const qmp = await QmpClient.connect(path);
    const wait = qmp.waitForEvent("SHUTDOWN", { timeoutMs: 10_000 });
    const a = qmp.execute("a");
    const b = qmp.execute("b");
    await assert.rejects(a, QmpClosedError);
    await assert.rejects(b, QmpClosedError);
    await assert.rejects(wait, QmpClosedError);
    assert.ok((await qmp.closed) instanceof QmpClosedError);
    assert.equal(qmp.isOpen, false);
    await assert.rejects(qmp.execute("c"), QmpClosedError);
    await stop(srv);
  });

  test("waitForEvent is bounded, and matches on data", async () => {
    const path = sock();
    const srv = await fakeServer(path, (cmd, s) => {
      for (const device of ["other", "nic1"]) {
        s.write(
          JSON.stringify({
            event: "DEVICE_DELETED",
            data: { device },
            timestamp: { seconds: 0, microseconds: 0 },
          }) + "\n",
        );
      }
      s.write(JSON.stringify({ return: {}, id: cmd.id }) + "\n");
    });
    const qmp = await QmpClient.connect(path);
    try {
      await assert.rejects(qmp.waitForEvent("NEVER", { timeoutMs: 20 }), QmpTimeoutError);
      await qmp.deviceDel("nic1", 5_000);
      await assert.rejects(qmp.deviceDel("absent", 50), QmpTimeoutError);
    } finally {
      qmp.close();
      await stop(srv);
    }
  });

  test("a server that does not speak QMP is refused", async () => {
    const path = sock();
    const srv = await fakeServer(path, () => {}, "SSH-2.0-OpenSSH\r\n");
    await assert.rejects(QmpClient.connect(path), QmpClosedError);
    await stop(srv);
    const path2 = sock();
    const srv2 = await fakeServer(path2, () => {}, JSON.stringify({ hello: 1 }) + "\n");
    await assert.rejects(
      QmpClient.connect(path2),
      (e: unknown) => e instanceof QmpClosedError && e.cause instanceof QmpProtocolError,
    );
    await stop(srv2);
  });

  test("a silent server times out; a missing socket is a closed error", async () => {
    const path = sock();
    const srv = await fakeServer(path, () => {}, "");
    await assert.rejects(QmpClient.connect(path, { timeoutMs: 50 }), QmpTimeoutError);
    await stop(srv);
    await assert.rejects(QmpClient.connect(join(dir, "absent.sock")), QmpClosedError);
  });
});

describe("QMP client against a real QEMU", { skip: SKIP_QEMU }, () => {
  let dir = "";
  let cleanup = async () => {};
  before(async () => ({ dir, cleanup } = await scratchDir("qmpreal")));
  after(async () => {
    await reapAndAssertNoOrphans();
    await cleanup();
  });

  test("greeting, query-status, stop/cont events, device_del waits for DEVICE_DELETED, quit closes", async () => {
    const uuid = testUuid();
    const path = join(dir, "qmp.sock");
    const child = spawn(
      "qemu-system-x86_64",
      [
        ...["-name", `guest=${uuid}`, "-nodefaults", "-no-user-config", "-S", "-display", "none"],
        ...["-machine", "pc", "-accel", "tcg", "-m", "32", "-device", "qemu-xhci,id=usb"],
        ...["-qmp", `unix:${path},server=on,wait=off`],
      ],
      { stdio: "ignore" },
    );
    try {
      const qmp = await waitFor("QMP socket", () => QmpClient.connect(path).catch(() => null));
      try {
        assert.equal(qmp.version.major >= 6, true);
        assert.equal((await qmp.execute("query-status")).status, "prelaunch");
        const resumed = qmp.waitForEvent("RESUME", { timeoutMs: 10_000 });
        await qmp.execute("cont");
        await resumed;
        assert.equal((await qmp.execute("query-status")).status, "running");
        const stopped = qmp.waitForEvent("STOP", { timeoutMs: 10_000 });
        await qmp.execute("stop");
        await stopped;
        assert.equal((await qmp.execute("query-status")).status, "paused");

        await qmp.execute("device_add", { driver: "usb-kbd", id: "kbd0" });
        await qmp.deviceDel("kbd0", 10_000);
        await assert.rejects(
          qmp.execute("device_del", { id: "kbd0" }),
          (e: unknown) => e instanceof QmpCommandError && e.errorClass === "DeviceNotFound",
        );
        await assert.rejects(
          qmp.execute("no-such-command"),
          (e: unknown) => e instanceof QmpCommandError && e.errorClass === "CommandNotFound",
        );

        const shutdown = qmp.waitForEvent<{ reason: string }>("SHUTDOWN", { timeoutMs: 10_000 });
        await qmp.execute("quit");
        assert.equal((await shutdown).data.reason, "host-qmp-quit");
        assert.ok((await qmp.closed) instanceof QmpClosedError);
      } finally {
        qmp.close();
      }
      assert.equal(await waitForExit(child.pid!, 10_000), true);
    } finally {
      if (child.exitCode === null) await killPid(child.pid!, 10_000);
    }
  });
});
