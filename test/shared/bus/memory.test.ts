// The shared bus cases on the in-process transport, plus what is particular to it (shared named brokers).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { createBus, defineContract, call } from "../../../src/shared/bus/index.js";
import { busCases, silent } from "./bus.cases.js";

describe("bus over the memory transport", () => {
  // One named in-process broker per case run, shared by the buses of a case as separate processes would share one.
  const broker = `test-${randomBytes(4).toString("hex")}`;
  busCases({
    skipReason: () => null,
    newBus: (log = silent, opts) => createBus(`memory://${broker}`, log, opts),
  });

  test("a private broker ('memory') is not shared; bad URLs are refused", async () => {
    const c = defineContract("private", "1.0", { ping: call<null, string>() });
    const a = await createBus("memory", silent);
    const b = await createBus("memory", silent);
    try {
      await a.serve(c, "h", { ping: () => "pong" });
      assert.equal(await a.call(c, "ping", null), "pong");
      await assert.rejects(b.call(c, "ping", null, { timeoutMs: 200 }), { name: "Unroutable" });
    } finally {
      await a.close();
      await b.close();
    }
    await assert.rejects(createBus("redis://127.0.0.1", silent), /Unsupported bus URL/);
    await assert.rejects(
      createBus("amqp://u:secret@127.0.0.1:1/", silent, { amqp: { connectTimeoutMs: 300 } }),
      (e) => {
        assert.equal((e as Error).name, "BusUnavailable");
        assert.ok(!(e as Error).message.includes("secret"), "the password is not shown");
        return true;
      },
    );
  });
});
