// Container sync across two API processes on one PostgreSQL database: both run the sync daemon, which claims
// containers by lease rows in the DB; objects written through either process reach the target container (through
// a realm whose cluster is the cloud itself), and so do their deletions.
//
// PostgreSQL and RabbitMQ are started when installed; when one cannot be used the case skips with the reason,
// unless CI is set: then it fails. Every wait is bounded.
import { strict as assert } from "node:assert";
import { after, before, describe, test, type TestContext } from "node:test";
import { request, twoProcessCloud, type TwoProcessCloud } from "../helpers/multiprocess.js";
import { until } from "../helpers/wait.js";

const CONFIG = [
  "compute:",
  "  hosts: 0",
  "object:",
  "  containerSync:",
  "    interval: 0.2",
  "    realms:",
  "      realm1:",
  "        key: e2e-realm-key",
  "        clusters:",
  '          name1: "/object-store/v1/"',
  "",
].join("\n");

describe("container sync across two API processes on PostgreSQL", () => {
  let skip: string | null = "before() did not finish";
  let cloud: TwoProcessCloud | null = null;
  const guard = (t: TestContext): boolean => {
    if (skip) t.skip(skip);
    return !!skip;
  };

  before(async () => {
    const c = await twoProcessCloud("mpsync", "postgres", CONFIG, [
      ["--compute-hosts", "0"],
      ["--compute-hosts", "0"],
    ]);
    if ("skip" in c) {
      skip = c.skip;
      return;
    }
    cloud = c;
    skip = null;
  });

  after(async () => {
    await cloud?.stop();
  });

  test("writes through either process are pushed once the daemons claim their containers", async (t) => {
    if (guard(t)) return;
    const { bases, demo } = cloud!;
    const account = `AUTH_${demo.project}`;
    const sw = (
      i: number,
      method: string,
      path: string,
      headers: Record<string, string> = {},
      body?: string,
    ) =>
      request(bases[i % 2], method, `/object-store/v1/${account}${path}`, {
        token: demo.token,
        headers,
        ...(body !== undefined ? { body: Buffer.from(body) } : {}),
      });
    assert.equal((await sw(0, "PUT", "/dst", { "x-container-sync-key": "k" })).status, 201);
    const sources = ["s0", "s1", "s2", "s3"];
    for (const [i, s] of sources.entries()) {
      const r = await sw(i, "PUT", `/${s}`, {
        "x-container-sync-to": `//realm1/name1/${account}/dst`,
        "x-container-sync-key": "k",
      });
      assert.equal(r.status, 201, r.text);
    }
    const names: string[] = [];
    const writes = [];
    for (const [i, s] of sources.entries())
      for (let j = 0; j < 8; j++) {
        const name = `${s}-${j}`;
        names.push(name);
        writes.push(sw(i + j, "PUT", `/${s}/${name}`, {}, `data of ${name}`));
      }
    for (const r of await Promise.all(writes)) assert.equal(r.status, 201, r.text);
    const listing = async () => (await sw(0, "GET", "/dst")).text.split("\n").filter(Boolean).sort();
    await until("every object synced", async () => (await listing()).length === names.length, 120_000, 200);
    assert.deepEqual(await listing(), [...names].sort());
    assert.equal((await sw(1, "GET", "/dst/s2-5")).text, "data of s2-5");
    // Deletions, through the other process each.
    for (const [i, s] of sources.entries())
      assert.equal((await sw(i + 1, "DELETE", `/${s}/${s}-0`)).status, 204);
    await until("deletions synced", async () => (await listing()).length === names.length - 4, 120_000, 200);
    assert.equal((await sw(0, "HEAD", "/dst/s1-0")).status, 404);
  });
});
