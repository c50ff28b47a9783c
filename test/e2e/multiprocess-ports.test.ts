// Port creation races across two API processes (`bin/stratus up` twice on one PostgreSQL database and RabbitMQ
// vhost): creates alternating between the processes and between two projects on a shared network, with unlimited
// port quotas so that nothing serializes them, get distinct addresses and MACs (the database's unique keys decide
// every collision; the loser retries with another address). A nearly full subnet hands out every address once and
// then answers IpAddressGenerationFailure.
//
// PostgreSQL and RabbitMQ are started when installed; when one cannot be used the cases skip with the reason,
// unless CI is set: then they fail.
import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { login, processCloudEnv, request, startUp } from "../helpers/multiprocess.js";
import type { Proc } from "../helpers/stratus-process.js";

describe("port creation across two API processes on PostgreSQL and RabbitMQ", () => {
  let skip: string | null = "before() did not finish";
  let cleanup = async () => {};
  const procs: Proc[] = [];
  const bases: string[] = [];
  const tokens: string[] = []; // admin, demo

  const guard = (t: TestContext): boolean => {
    if (skip) t.skip(skip);
    return !!skip;
  };
  const call = (i: number, token: string, method: string, path: string, body?: unknown) =>
    request(bases[i % 2], method, `/networking/v2.0${path}`, { token, body, timeoutMs: 60_000 });

  before(async () => {
    const env = await processCloudEnv("mpp");
    if ("skip" in env) {
      skip = env.skip;
      return;
    }
    cleanup = env.cleanup;
    writeFileSync(join(env.root, "stratus.yaml"), "compute:\n  hosts: 0\n");
    for (const name of ["api-1", "api-2"]) {
      const args = ["--compute-hosts", "0"];
      const up = await startUp(
        name,
        { dataDir: env.root, dbUrl: env.dbUrl, busUrl: env.busUrl, args },
        120_000,
      );
      procs.push(up.proc);
      bases.push(up.base);
      if (!tokens.length) {
        const a = await login(bases[0], "admin", up.clouds["stratus-admin"].auth.password, "admin");
        const d = await login(bases[0], "demo", up.clouds["stratus-demo"].auth.password, "demo");
        tokens.push(a.token, d.token);
        for (const project of [a.project, d.project]) {
          const q = await call(0, a.token, "PUT", `/quotas/${project}`, { quota: { port: -1 } });
          assert.equal(q.status, 200, q.text);
        }
      }
    }
    skip = null;
  });

  after(async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
    await cleanup();
  });

  /** A shared network with one subnet of `cidr`; its id. */
  const sharedNetwork = async (name: string, cidr: string): Promise<string> => {
    const n = await call(0, tokens[0], "POST", "/networks", { network: { name, shared: true } });
    assert.equal(n.status, 201, n.text);
    const s = await call(1, tokens[0], "POST", "/subnets", {
      subnet: { network_id: n.body.network.id, ip_version: 4, cidr },
    });
    assert.equal(s.status, 201, s.text);
    return n.body.network.id;
  };

  /** `n` creates at once, alternating processes and projects. */
  const burst = (network: string, n: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        call(i, tokens[(i >> 1) % 2], "POST", "/ports", { port: { network_id: network } }),
      ),
    );

  test("40 creates at once over two processes and two projects: distinct addresses and MACs", async (t) => {
    if (guard(t)) return;
    const net = await sharedNetwork("mpp-wide", "10.90.0.0/24");
    const results = await burst(net, 40);
    for (const r of results) assert.equal(r.status, 201, r.text);
    const ips = results.map((r) => r.body.port.fixed_ips[0].ip_address as string);
    const macs = results.map((r) => r.body.port.mac_address as string);
    assert.equal(new Set(ips).size, 40, `addresses: ${ips.sort().join(" ")}`);
    assert.equal(new Set(macs).size, 40);
    const listed = await call(0, tokens[0], "GET", `/ports?network_id=${net}`);
    assert.equal(listed.body.ports.length, 40);
  });

  test("a /27 (29 addresses) under 40 racing creates: 29 ports with every address once, 11 IpAddressGenerationFailure", async (t) => {
    if (guard(t)) return;
    const net = await sharedNetwork("mpp-small", "10.91.0.0/27");
    const results = await burst(net, 40);
    const ok = results.filter((r) => r.status === 201);
    assert.equal(ok.length, 29, results.map((r) => r.status).join(","));
    for (const r of results.filter((x) => x.status !== 201)) {
      assert.equal(r.status, 409, r.text);
      assert.equal(r.body.NeutronError.type, "IpAddressGenerationFailure");
    }
    const ips = ok.map((r) => r.body.port.fixed_ips[0].ip_address as string);
    const want = Array.from({ length: 29 }, (_, i) => `10.91.0.${i + 2}`);
    assert.deepEqual([...ips].sort(), [...want].sort());
  });
});
