// The shared bus cases on the AMQP transport against a real RabbitMQ on 127.0.0.1:5672, plus the faults only a
// real broker has: a broker restart, connections closed under the clients, a consumer that dies before acking.
//
// scripts/rabbitmq.mjs (ensureRabbitMQ) makes the broker reachable: it starts an installed one, and installs it
// (as root) only with CI set or STRATUS_INSTALL=1. When RabbitMQ cannot be used the cases are skipped with the
// reason, unless CI is set: then they fail. Each run works in a temporary vhost (rabbitmqctl add_vhost), deleted
// afterwards; without rabbitmqctl it uses vhost "/" (topics are unique per case) and skips the fault cases.
// The restart case stops the broker's application for a few seconds (rabbitmqctl stop_app/start_app): any other
// client of the local broker sees its connections drop meanwhile. Set STRATUS_TEST_BUS_LOG=debug for the buses' logs.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { after, before, describe, test, type TestContext } from "node:test";
import pino, { type Logger } from "pino";
import type { AmqpTransport } from "../../../src/shared/bus/amqp.js";
import {
  RpcTimeout,
  call,
  cast,
  createBus,
  defineContract,
  target,
  type Bus,
  type CreateBusOptions,
} from "../../../src/shared/bus/index.js";
import { busCases, computeContract, silent, sleep, uniqueTopic, waitFor } from "./bus.cases.js";

/** What scripts/rabbitmq.mjs reports and offers. */
interface RabbitStatus {
  usable: boolean;
  url: string | null;
  reason: string | null;
  actions: string[];
  ctl: boolean;
}
interface RabbitScript {
  ensureRabbitMQ(opts?: { install?: boolean }): Promise<RabbitStatus>;
  addVhost(name: string): void;
  deleteVhost(name: string): { ok: boolean; out: string };
  vhostUrl(url: string, name: string): string;
}

const CI = !!process.env.CI && !["0", "false", "no"].includes(process.env.CI.toLowerCase());
// Compiled to dist/test/shared/bus/: the repository root is four levels up. A computed specifier keeps tsc from
// looking for the .mjs file's types.
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const scriptModule = new URL("../../../../scripts/rabbitmq.mjs", import.meta.url).href;
const busModule = new URL("../../../src/shared/bus/index.js", import.meta.url).href;

let skip: string | null = "ensureRabbitMQ() has not run";
let ctlSkip: string | null = "ensureRabbitMQ() has not run";
let url = "";
let vhost: string | null = null;
let script: RabbitScript | null = null;

before(async () => {
  script = (await import(scriptModule)) as RabbitScript;
  const st = await script.ensureRabbitMQ({ install: CI || process.env.STRATUS_INSTALL === "1" });
  if (!st.usable || !st.url) {
    const reason = `RabbitMQ is not usable: ${st.reason}`;
    if (CI) throw new Error(`${reason} (CI is set, so this is a failure)`);
    console.log(`skipping the AMQP bus tests: ${reason}`);
    skip = reason;
    return;
  }
  skip = null;
  url = st.url;
  if (st.ctl) {
    vhost = `stratus-test-${randomBytes(4).toString("hex")}`;
    script.addVhost(vhost);
    url = script.vhostUrl(st.url, vhost);
    ctlSkip = null;
  } else {
    ctlSkip = "rabbitmqctl does not work here (it needs root or the rabbitmq user)";
    if (CI) throw new Error(`${ctlSkip} (CI is set, so this is a failure)`);
    console.log(`AMQP bus tests: using vhost "/"; skipping the fault cases: ${ctlSkip}`);
  }
});

/** Set while the restart case has the broker's application stopped. */
let brokerStopped = false;

after(async () => {
  // Whatever happened, leave the broker running (a failed restart case must not leave it stopped).
  if (brokerStopped) await ctl(["start_app"]).catch((e) => console.log(`could not restart RabbitMQ: ${e}`));
  if (vhost && script) {
    const r = script.deleteVhost(vhost);
    if (!r.ok) console.log(`could not delete vhost ${vhost}: ${r.out}`);
  }
});

/** rabbitmqctl without blocking the event loop (the buses must see the broker go and come back). */
function ctl(args: string[], timeoutMs = 90_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("rabbitmqctl", args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(new Error(`rabbitmqctl ${args.join(" ")}: ${err.message}\n${stdout}${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

// STRATUS_TEST_BUS_LOG=debug shows the buses' own logs (connection losses, reconnects) on stderr.
const testLog = process.env.STRATUS_TEST_BUS_LOG
  ? pino({ level: process.env.STRATUS_TEST_BUS_LOG }, pino.destination(2))
  : silent;

const newBus = (log: Logger = testLog, opts: CreateBusOptions = {}) =>
  createBus(url, log, {
    ...opts,
    amqp: {
      connectionName: "stratus bus tests",
      reconnectInitialDelayMs: 50,
      reconnectMaxDelayMs: 1000,
      ...opts.amqp,
    },
  });

const transportOf = (b: Bus) => b.transport as AmqpTransport;

/** Promise `p`, or a failure naming `what` after ms. */
async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe("bus over the AMQP transport (RabbitMQ)", () => {
  busCases({ skipReason: () => skip, newBus });

  const buses: Bus[] = [];
  const fault = (name: string, fn: (t: TestContext) => Promise<void>) =>
    test(name, { timeout: 180_000 }, async (t) => {
      const reason = skip ?? ctlSkip;
      if (reason) {
        t.skip(reason);
        return;
      }
      try {
        await fn(t);
      } finally {
        await Promise.allSettled(buses.splice(0).map((b) => b.close()));
      }
    });
  const bus = async (log?: Logger) => {
    const b = await newBus(log);
    buses.push(b);
    return b;
  };

  fault(
    "a broker restart loses no cast: queued ones survive, ones made while it is down are resent",
    async () => {
      const topic = uniqueTopic("restart");
      const c = computeContract(topic);
      const client = await bus();
      const serverBus = await bus();
      const got = new Map<string, number>();
      const handlers = {
        build_instance: async ({ id }: { id: string }) => void got.set(id, (got.get(id) ?? 0) + 1),
        get_console: async ({ id }: { id: string }) => ({ url: id, host: "h" }),
        fail: async (): Promise<never> => {
          throw new Error("no");
        },
        slow: async ({ ms }: { ms: number }) => ({ slept: ms }),
        echo: async ({ i }: { i: number }) => ({ i, host: "h" }),
      };
      const h = await serverBus.serve(c, "h", handlers);
      await client.cast(target(c, "h"), "build_instance", { id: "warmup" });
      await waitFor("the warm-up cast", () => got.has("warmup"));
      // Casts confirmed while no server consumes: they sit in the durable queue as persistent messages.
      await h.stop();
      for (let i = 0; i < 10; i++) await client.cast(target(c, "h"), "build_instance", { id: `queued-${i}` });

      try {
        brokerStopped = true;
        await ctl(["stop_app"]);
        await waitFor(
          "both clients to notice the broker is gone",
          () => !transportOf(client).connected && !transportOf(serverBus).connected,
          20_000,
        );
        // Casts made while the broker is down wait in the outbox; none can be confirmed yet.
        let confirmed = 0;
        const during = Array.from({ length: 10 }, (_, i) =>
          client.cast(target(c, "h"), "build_instance", { id: `during-${i}` }).then(() => void confirmed++),
        );
        await sleep(500);
        assert.equal(confirmed, 0, "no cast can be confirmed while the broker is down");
        await ctl(["start_app"]);
        brokerStopped = false;
        await within("the casts made during the outage to be confirmed", 60_000, Promise.all(during));
      } finally {
        if (brokerStopped) await ctl(["start_app"]).then(() => (brokerStopped = false));
      }
      await waitFor("the server bus to reconnect", () => transportOf(serverBus).connected, 30_000);
      await serverBus.serve(c, "h", handlers);
      const want = [
        ...Array.from({ length: 10 }, (_, i) => `queued-${i}`),
        ...Array.from({ length: 10 }, (_, i) => `during-${i}`),
      ];
      await waitFor("all 20 casts after the restart", () => want.every((id) => got.has(id)), 30_000);
      assert.deepEqual(await client.call(c, "get_console", { id: "after" }, { timeoutMs: 10_000 }), {
        url: "after",
        host: "h",
      });
    },
  );

  fault("clients reconnect when their connections are closed and keep working", async () => {
    const topic = uniqueTopic("reconnect");
    const c = computeContract(topic);
    const client = await bus();
    const serverBus = await bus();
    const fanned: string[] = [];
    await serverBus.serve(c, "h", {
      build_instance: async ({ id }) => void fanned.push(id),
      get_console: async ({ id }) => ({ url: id, host: "h" }),
      fail: async () => {
        throw new Error("no");
      },
      slow: async ({ ms }) => {
        await sleep(ms);
        return { slept: ms };
      },
      echo: async ({ i }) => ({ i, host: "h" }),
    });
    assert.equal((await client.call(c, "get_console", { id: "1" })).url, "1");

    // 1. The broker closes every connection of the vhost (as on a node restart or an operator's action).
    await ctl(["close_all_connections", "-p", vhost!, "stratus bus test: forced close"]);
    await waitFor(
      "the clients to notice",
      () => !transportOf(client).connected || !transportOf(serverBus).connected,
      10_000,
    );
    await waitFor(
      "both clients to reconnect",
      () => transportOf(client).connected && transportOf(serverBus).connected,
      30_000,
    );
    assert.equal((await client.call(c, "get_console", { id: "2" }, { timeoutMs: 10_000 })).url, "2");
    await client.fanout(c, "build_instance", { id: "fan-1" });
    await client.cast(target(c, "h"), "build_instance", { id: "cast-1" });
    await waitFor(
      "the fanout and the cast after reconnecting",
      () => fanned.includes("fan-1") && fanned.includes("cast-1"),
    );

    // 2. The client's socket dies without a goodbye; a call made at that moment is sent after the reconnect.
    transportOf(client).destroyConnection();
    const during = client.call(c, "get_console", { id: "3" }, { timeoutMs: 20_000 });
    assert.equal((await during).url, "3");
    assert.ok(transportOf(client).connected);

    // 3. A call under way when the server's connection dies: the server gets it again (at least once) or the
    //    caller times out; either way the bus carries on.
    const slow = client.call(c, "slow", { ms: 400 }, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    await sleep(100);
    transportOf(serverBus).destroyConnection();
    const r = await slow;
    assert.ok(r instanceof RpcTimeout || (r as { slept: number }).slept === 400, String(r));
    await waitFor("the server to reconnect", () => transportOf(serverBus).connected, 30_000);
    assert.equal((await client.call(c, "get_console", { id: "4" }, { timeoutMs: 10_000 })).url, "4");
  });

  fault("a message whose consumer dies before acking is delivered again, flagged redelivered", async (t) => {
    const topic = uniqueTopic("redeliver");
    const c = defineContract(topic, "1.0", { work: cast<{ id: string }>(), ping: call<null, string>() });
    // A separate process serves `dying` and hangs in its handler; it is then killed with SIGKILL.
    const child = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `
        const { createBus, defineContract, cast, call } = await import(process.env.BUS_MODULE);
        const { default: pino } = await import("pino");
        const bus = await createBus(process.env.BUS_URL, pino({ level: "silent" }));
        const c = defineContract(process.env.BUS_TOPIC, "1.0", { work: cast(), ping: call() });
        await bus.serve(c, "dying", {
          work: (args, ctx) => {
            process.stdout.write("got " + JSON.stringify({ args, redelivered: ctx.redelivered }) + "\\n");
            return new Promise(() => {});
          },
          ping: () => "pong",
        }, { prefetch: 1 });
        process.stdout.write("ready\\n");
        `,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, BUS_MODULE: busModule, BUS_URL: url, BUS_TOPIC: topic },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    t.after(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await waitFor(`the child consumer to be ready (stderr: ${err})`, () => out.includes("ready\n"), 20_000);

    const client = await bus();
    assert.equal(await client.call(target(c, "dying"), "ping", null, { timeoutMs: 10_000 }), "pong");
    await client.cast(target(c, "dying"), "work", { id: "job-1" });
    await client.cast(target(c, "dying"), "work", { id: "job-2" });
    await waitFor("the child to take job-1", () => out.includes('"id":"job-1"'), 10_000);
    await sleep(200);
    assert.ok(!out.includes("job-2"), "prefetch 1: the child holds one message at a time");
    child.kill("SIGKILL");
    await within("the child to exit", 10_000, exited);

    const got: Array<{ id: string; redelivered: boolean }> = [];
    const successor = await bus();
    await successor.serve(c, "dying", {
      work: async ({ id }, ctx) => void got.push({ id, redelivered: ctx.redelivered }),
      ping: () => "pong",
    });
    await waitFor("both jobs on the successor", () => got.length >= 2, 20_000);
    const byId = Object.fromEntries(got.map((g) => [g.id, g.redelivered]));
    assert.equal(byId["job-1"], true, "the unacked message comes back flagged redelivered");
    assert.equal(byId["job-2"], false, "the message never delivered is not flagged");
  });
});
