// One suite of bus cases, run against every transport (memory.test.ts, amqp.test.ts). A harness gives buses that
// share one broker; each case uses its own topic, so cases never see each other's messages.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test, type TestContext } from "node:test";
import { Type } from "@sinclair/typebox";
import pino, { type Logger } from "pino";
import {
  BusClosed,
  InvalidArguments,
  NoSuchMethod,
  RemoteError,
  RpcTimeout,
  Unroutable,
  UnsupportedVersion,
  call,
  cast,
  defineContract,
  target,
  type Bus,
  type CreateBusOptions,
  type HandlerContext,
} from "../../../src/shared/bus/index.js";
import { until, WAIT_MS } from "../../helpers/wait.js";

/** What a transport's test file provides. */
export interface Harness {
  /** Why the cases cannot run here (null when they can). Checked when each case starts. */
  skipReason(): string | null;
  /** A new bus on the shared broker (its own connection, as another process would have). */
  newBus(log?: Logger, opts?: CreateBusOptions): Promise<Bus>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A topic name no other case (or run) uses. */
export const uniqueTopic = (what: string) => `t_${what}_${randomBytes(4).toString("hex")}`;

/** Poll until `cond()` holds, or fail after timeoutMs (the shared bounded poll). */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  await until(what, cond, timeoutMs);
}

/** A pino logger that keeps its lines in memory. */
export function captureLog(): { log: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const log = pino({ level: "debug" }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { log, lines };
}

export const silent = pino({ level: "silent" });

/** The contract most cases use. */
export function computeContract(topic: string) {
  return defineContract(topic, "1.0", {
    build_instance: cast<{ id: string; n?: number }>(),
    get_console: call<{ id: string }, { url: string; host: string }>(),
    fail: call<{ kind: string }, never>(),
    slow: call<{ ms: number }, { slept: number }>(),
    echo: call<{ i: number }, { i: number; host: string }>(),
  });
}

/** A failing handler's error with a typed name and data, as a driver would raise. */
class InstanceNotFound extends Error {
  override name = "InstanceNotFound";
  constructor(
    id: string,
    readonly data = { id, code: 404 },
  ) {
    super(`instance ${id} could not be found`);
  }
}

/** Handlers recording what they got. */
function recorder(host: string) {
  const casts: Array<{ id: string; n?: number; ctx: HandlerContext }> = [];
  const handlers = {
    build_instance: async (a: { id: string; n?: number }, ctx: HandlerContext) => {
      casts.push({ ...a, ctx });
    },
    get_console: async (a: { id: string }) => ({ url: `vnc://${host}/${a.id}`, host }),
    fail: async (a: { kind: string }): Promise<never> => {
      if (a.kind === "typed") throw new InstanceNotFound("i-1");
      if (a.kind === "string") throw "plain string";
      throw new TypeError("bad things");
    },
    slow: async (a: { ms: number }) => {
      await sleep(a.ms);
      return { slept: a.ms };
    },
    echo: async (a: { i: number }) => {
      await sleep(Math.random() * 5);
      return { i: a.i, host };
    },
  };
  return { casts, handlers };
}

/** Register every shared case. `h` is read when each case runs (its before hook may fill it in). */
export function busCases(h: Harness): void {
  const buses: Bus[] = [];
  const run = (name: string, fn: (t: TestContext) => Promise<void>, timeoutMs = 60_000) =>
    test(name, { timeout: timeoutMs }, async (t) => {
      const reason = h.skipReason();
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
  const bus = async (log: Logger = silent, opts?: CreateBusOptions) => {
    const b = await h.newBus(log, opts);
    buses.push(b);
    return b;
  };

  run("call returns the handler's result", async () => {
    const topic = uniqueTopic("call");
    const c = computeContract(topic);
    const server = await bus();
    const client = await bus();
    await server.serve(c, "host1", recorder("host1").handlers);
    const r = await client.call(c, "get_console", { id: "i-1" }, { timeoutMs: 10_000 });
    assert.deepEqual(r, { url: "vnc://host1/i-1", host: "host1" });
    const r2 = await client.call(target(c, "host1"), "get_console", { id: "i-2" });
    assert.equal(r2.url, "vnc://host1/i-2");
    // The same bus can be client and server.
    assert.equal((await server.call(c, "get_console", { id: "i-3" })).host, "host1");
  });

  run("a handler's exception comes back as a RemoteError with its name, message and data", async () => {
    const topic = uniqueTopic("err");
    const c = computeContract(topic);
    const server = await bus();
    const client = await bus();
    await server.serve(c, "host1", recorder("host1").handlers);
    const err = await client.call(c, "fail", { kind: "typed" }).then(
      () => assert.fail("should have failed"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RemoteError, String(err));
    assert.equal(err.name, "InstanceNotFound");
    assert.equal(err.message, "instance i-1 could not be found");
    assert.deepEqual(err.data, { id: "i-1", code: 404 });
    assert.equal(err.remote, true);
    assert.ok(!String(err.stack).includes("recorder"), "no remote stack crosses the wire");
    await assert.rejects(client.call(c, "fail", { kind: "type" }), {
      name: "TypeError",
      message: "bad things",
    });
    await assert.rejects(client.call(c, "fail", { kind: "string" }), {
      name: "Error",
      message: "plain string",
    });
    // The server keeps serving after errors.
    assert.equal((await client.call(c, "get_console", { id: "x" })).host, "host1");
  });

  run("a call without a reply in time raises RpcTimeout; later calls still work", async () => {
    const topic = uniqueTopic("timeout");
    const c = computeContract(topic);
    const server = await bus();
    const client = await bus();
    await server.serve(c, "host1", recorder("host1").handlers);
    // An RpcTimeout (not the reply, 1.5 s later) says the call gave up on its own; no wall-clock assertion.
    const err = await client.call(c, "slow", { ms: 1500 }, { timeoutMs: 200 }).catch((e: unknown) => e);
    assert.ok(err instanceof RpcTimeout, String(err));
    assert.equal(err.method, "slow");
    assert.equal(err.timeoutMs, 200);
    assert.match(err.message, /within 200 ms/);
    assert.deepEqual(await client.call(c, "slow", { ms: 1 }, { timeoutMs: 10_000 }), { slept: 1 });
    await sleep(1500); // the late reply to the first call arrives and is dropped quietly
    assert.deepEqual(await client.call(c, "slow", { ms: 2 }), { slept: 2 });
  });

  run("a call to a server that never existed fails fast with Unroutable", async () => {
    const topic = uniqueTopic("unroutable");
    const c = computeContract(topic);
    const client = await bus();
    // Unroutable (not an RpcTimeout after 5 s) is what says it failed fast.
    await assert.rejects(
      client.call(target(c, "nohost"), "get_console", { id: "x" }, { timeoutMs: 5000 }),
      (e) => {
        assert.ok(e instanceof Unroutable, String(e));
        assert.equal(e.queue, `${topic}.nohost`);
        return true;
      },
    );
  });

  run("a cast is delivered later, not inside cast()", async () => {
    const topic = uniqueTopic("cast");
    const c = computeContract(topic);
    const server = await bus();
    const client = await bus();
    const { casts, handlers } = recorder("host1");
    await server.serve(c, "host1", handlers);
    const p = client.cast(c, "build_instance", { id: "i-1" });
    assert.equal(casts.length, 0, "the handler must not run synchronously");
    await p;
    await waitFor("the cast", () => casts.length === 1);
    assert.equal(casts[0].id, "i-1");
    assert.equal(casts[0].ctx.method, "build_instance");
    assert.equal(casts[0].ctx.version, "1.0");
    assert.equal(casts[0].ctx.server, "host1");
    assert.equal(casts[0].ctx.redelivered, false);
    // Cast on the server's own bus too (one process being both).
    await server.cast(c, "build_instance", { id: "i-2" });
    await waitFor("the second cast", () => casts.length === 2);
  });

  run("casts to a server go to that server; casts to the topic are shared round robin", async () => {
    const topic = uniqueTopic("rr");
    const c = computeContract(topic);
    const client = await bus();
    const h1 = recorder("host1");
    const h2 = recorder("host2");
    await (await bus()).serve(c, "host1", h1.handlers);
    await (await bus()).serve(c, "host2", h2.handlers);
    for (let i = 0; i < 5; i++)
      await client.cast(target(c, "host2"), "build_instance", { id: `direct-${i}` });
    await waitFor("5 direct casts", () => h2.casts.length === 5);
    await sleep(100);
    assert.equal(h1.casts.length, 0, "host1 got none of host2's casts");
    h2.casts.length = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.cast(c, "build_instance", { id: `topic-${i}` })),
    );
    await waitFor("20 topic casts", () => h1.casts.length + h2.casts.length === 20);
    assert.ok(h1.casts.length >= 3 && h2.casts.length >= 3, `split ${h1.casts.length}/${h2.casts.length}`);
    const ids = [...h1.casts, ...h2.casts].map((x) => x.id).sort();
    assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => `topic-${i}`).sort());
    // Calls to a topic are shared too; each answer names the server that gave it.
    const hosts = new Set<string>();
    for (let i = 0; i < 20; i++) hosts.add((await client.call(c, "echo", { i })).host);
    assert.deepEqual([...hosts].sort(), ["host1", "host2"]);
  });

  run("fanout reaches every server of the topic", async () => {
    const topic = uniqueTopic("fanout");
    const c = computeContract(topic);
    const client = await bus();
    const recs = ["a", "b", "c"].map((host) => ({ host, ...recorder(host) }));
    for (const r of recs) await (await bus()).serve(c, r.host, r.handlers);
    await client.fanout(c, "build_instance", { id: "everyone", n: 1 });
    await client.fanout(c, "build_instance", { id: "everyone", n: 2 });
    await waitFor("the fanout on 3 servers", () => recs.every((r) => r.casts.length === 2));
    for (const r of recs) assert.deepEqual(r.casts.map((x) => x.n).sort(), [1, 2]);
    // A fanout with no server listening is not an error.
    await client.fanout(computeContract(uniqueTopic("nobody")), "build_instance", { id: "x" });
  });

  run("versions: a server refuses messages newer than it implements, accepts older minors", async () => {
    const topic = uniqueTopic("ver");
    const v10 = defineContract(topic, "1.0", { ping: call<null, string>(), poke: cast<null>() });
    const v11 = defineContract(topic, "1.1", {
      ping: call<null, string>(),
      poke: cast<null>(),
      pong: call<null, string>({ since: "1.1" }),
    });
    const v20 = defineContract(topic, "2.0", { ping: call<null, string>(), poke: cast<null>() });
    const { log, lines } = captureLog();
    const server = await bus(log);
    let pokes = 0;
    await server.serve(v10, "old", { ping: () => "pong 1.0", poke: () => void pokes++ });
    const client = await bus();
    // 1.1 client, 1.0 method: fine (a message carries the version its method needs).
    assert.equal(await client.call(v11, "ping", null), "pong 1.0");
    await assert.rejects(client.call(v11, "pong", null), (e) => {
      assert.ok(e instanceof UnsupportedVersion, String(e));
      assert.ok(e instanceof RemoteError);
      assert.match(e.message, /implements version 1\.0; pong needs 1\.1/);
      return true;
    });
    await assert.rejects(client.call(v11, "ping", null, { version: "1.1" }), UnsupportedVersion);
    await assert.rejects(client.call(v20, "ping", null), (e) => e instanceof UnsupportedVersion);
    // A cast too new is refused: logged, acknowledged, not handled.
    await client.cast(v20, "poke", null);
    await waitFor("the refused cast to be logged", () =>
      lines.some((l) => l.msg.includes("cast handler failed") && l.err?.type === "UnsupportedVersion"),
    );
    assert.equal(pokes, 0);
    // A 1.3 server understands 1.1 messages, and a server may implement two majors.
    const server2 = await bus();
    await server2.serve(defineContract(`${topic}b`, "1.3", v11.methods), "new", {
      ping: () => "pong 1.3",
      poke: () => {},
      pong: () => "pong!",
    });
    assert.equal(await client.call(defineContract(`${topic}b`, "1.1", v11.methods), "pong", null), "pong!");
    await server2.serve(
      defineContract(`${topic}c`, "2.0", v20.methods),
      "both",
      { ping: () => "2", poke: () => {} },
      {
        versions: ["1.4", "2.0"],
      },
    );
    assert.equal(await client.call(defineContract(`${topic}c`, "1.0", v10.methods), "ping", null), "2");
    assert.equal(await client.call(defineContract(`${topic}c`, "2.0", v20.methods), "ping", null), "2");
    await assert.rejects(
      client.call(defineContract(`${topic}c`, "3.0", v20.methods), "ping", null),
      UnsupportedVersion,
    );
  });

  run("unknown methods and bad arguments are refused with typed errors", async () => {
    const topic = uniqueTopic("schema");
    const serverSide = defineContract(topic, "1.0", {
      resize: call({ args: Type.Object({ id: Type.String(), vcpus: Type.Integer({ minimum: 1 }) }) }),
    });
    const clientSide = defineContract(topic, "1.0", {
      resize: call<{ id: string; vcpus: number }, unknown>(),
      missing: call<null, null>(),
    });
    const server = await bus();
    await server.serve(serverSide, "h", { resize: (a) => `${a.id}:${a.vcpus}` });
    const client = await bus();
    assert.equal(await client.call(clientSide, "resize", { id: "i", vcpus: 2 }), "i:2");
    await assert.rejects(client.call(clientSide, "resize", { id: "i", vcpus: 0 }), (e) => {
      assert.ok(e instanceof InvalidArguments, String(e));
      assert.match(e.message, /vcpus/);
      return true;
    });
    // Checked locally too when the caller's contract has the schema (nothing is sent).
    await assert.rejects(client.call(serverSide, "resize", { id: 1 } as never), InvalidArguments);
    await assert.rejects(client.call(clientSide, "missing", null), NoSuchMethod);
    // Local misuse is a TypeError at once.
    await assert.rejects(client.call(clientSide, "nope" as never, null as never), TypeError);
  });

  run("stop() stops consumption; queued casts wait for the next server", async () => {
    const topic = uniqueTopic("stop");
    const c = computeContract(topic);
    const client = await bus();
    const server = await bus();
    const first = recorder("host1");
    const handle = await server.serve(c, "host1", first.handlers);
    await client.cast(target(c, "host1"), "build_instance", { id: "before" });
    await waitFor("the first cast", () => first.casts.length === 1);
    await handle.stop();
    await handle.stop(); // idempotent
    await client.cast(target(c, "host1"), "build_instance", { id: "while-stopped" });
    await sleep(300);
    assert.deepEqual(
      first.casts.map((x) => x.id),
      ["before"],
    );
    await assert.rejects(
      client.call(target(c, "host1"), "get_console", { id: "x" }, { timeoutMs: 300 }),
      RpcTimeout,
    );
    const second = recorder("host1");
    await server.serve(c, "host1", second.handlers);
    await waitFor("the queued cast", () => second.casts.length === 1);
    assert.equal(second.casts[0].id, "while-stopped");
    assert.equal(first.casts.length, 1);
  });

  run("stop() waits for the handlers under way", async () => {
    const topic = uniqueTopic("drain");
    const c = defineContract(topic, "1.0", { work: cast<{ ms: number }>() });
    let started = 0;
    let done = 0;
    const server = await bus();
    const handle = await server.serve(c, "h", {
      work: async ({ ms }) => {
        started++;
        await sleep(ms);
        done++;
      },
    });
    const client = await bus();
    await client.cast(c, "work", { ms: 300 });
    await waitFor("the handler to start", () => started === 1);
    await handle.stop();
    assert.equal(done, 1, "stop() resolved after the running handler finished");
  });

  run("1,000 concurrent calls are all answered", async () => {
    const topic = uniqueTopic("many");
    const c = computeContract(topic);
    const client = await bus();
    await (await bus()).serve(c, "host1", recorder("host1").handlers);
    await (await bus()).serve(c, "host2", recorder("host2").handlers);
    const n = 1000;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) => client.call(c, "echo", { i }, { timeoutMs: 30_000 })),
    );
    assert.deepEqual(
      results.map((r) => r.i),
      Array.from({ length: n }, (_, i) => i),
    );
    const perHost = results.reduce<Record<string, number>>(
      (m, r) => ((m[r.host] = (m[r.host] ?? 0) + 1), m),
      {},
    );
    assert.ok((perHost.host1 ?? 0) > 0 && (perHost.host2 ?? 0) > 0, JSON.stringify(perHost));
  });

  run("a failing cast handler is logged and acknowledged, not redelivered", async () => {
    const topic = uniqueTopic("castfail");
    const c = defineContract(topic, "1.0", { boom: cast<{ id: string }>() });
    const { log, lines } = captureLog();
    let calls = 0;
    await (
      await bus(log)
    ).serve(c, "h", {
      boom: async () => {
        calls++;
        throw new InstanceNotFound("i-9");
      },
    });
    const client = await bus();
    await client.cast(c, "boom", { id: "i-9" });
    await waitFor("the logged failure", () => lines.some((l) => l.msg.includes("cast handler failed")));
    await sleep(500);
    assert.equal(calls, 1, "the message was acknowledged once and not delivered again");
    const line = lines.find((l) => l.msg.includes("cast handler failed"))!;
    assert.equal(line.level, 50);
    assert.equal(line.method, "boom");
    assert.equal(line.err.type, "InstanceNotFound");
    assert.equal(line.topic, topic);
  });

  run("close() fails pending calls with BusClosed and refuses further use", async () => {
    const topic = uniqueTopic("close");
    const c = computeContract(topic);
    await (await bus()).serve(c, "h", recorder("h").handlers);
    const client = await h.newBus(silent);
    const pending = client.call(c, "slow", { ms: 800 }, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    await sleep(100);
    await client.close();
    assert.ok((await pending) instanceof BusClosed);
    await assert.rejects(client.call(c, "get_console", { id: "x" }), BusClosed);
    await assert.rejects(client.cast(c, "build_instance", { id: "x" }), BusClosed);
    await assert.rejects(client.serve(c, "h2", recorder("h2").handlers), BusClosed);
    await client.close(); // idempotent
  });
}

/** Compile-time checks of the typed API (never run; tsc fails if a line marked @ts-expect-error type-checks). */
export function _typeChecks(b: Bus): void {
  const c = computeContract("typed");
  void (async () => {
    const r: { url: string; host: string } = await b.call(c, "get_console", { id: "x" });
    void r;
    await b.cast(c, "build_instance", { id: "x", n: 1 });
    // @ts-expect-error: build_instance is a cast, not a call
    await b.call(c, "build_instance", { id: "x" });
    // @ts-expect-error: get_console is a call, not a cast
    await b.cast(c, "get_console", { id: "x" });
    // @ts-expect-error: wrong argument type
    await b.call(c, "get_console", { id: 1 });
    // @ts-expect-error: unknown method
    await b.call(c, "nope", {});
    await b.serve(c, "h", {
      build_instance: async () => {},
      get_console: async ({ id }) => ({ url: id, host: "h" }),
      fail: async () => {
        throw new Error();
      },
      slow: async ({ ms }) => ({ slept: ms }),
      echo: async ({ i }) => ({ i, host: "h" }),
    });
    // @ts-expect-error: a handler is missing
    await b.serve(c, "h", { build_instance: async () => {} });
    await b.serve(c, "h", {
      build_instance: async () => {},
      // @ts-expect-error: the result has the wrong shape
      get_console: async () => ({ url: 1 }),
      fail: async () => {
        throw new Error();
      },
      slow: async ({ ms }) => ({ slept: ms }),
      echo: async ({ i }) => ({ i, host: "h" }),
    });
    const s = defineContract("typed2", "1.0", {
      m: call({ args: Type.Object({ a: Type.Number() }), result: Type.String() }),
    });
    const str: string = await b.call(s, "m", { a: 1 });
    void str;
    // @ts-expect-error: schema-typed arguments
    await b.call(s, "m", { a: "1" });
  });
}
