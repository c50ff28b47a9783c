// Identity benchmark: token issue by password, by token (rescoping), and validation, over HTTP on loopback.
import { cpus } from "node:os";
import { scryptSync } from "node:crypto";
import { measure, pool, printTable, startStratus, type Result } from "./lib.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const cloud = await startStratus();
const http = pool(cloud.url, 64);
const json = { "content-type": "application/json" };
const passwordBody = JSON.stringify({
  auth: {
    identity: {
      methods: ["password"],
      password: { user: { name: "admin", domain: { name: "Default" }, password: cloud.adminPassword } },
    },
    scope: { project: { name: "admin", domain: { name: "Default" } } },
  },
});

async function issuePassword(): Promise<string | null> {
  const r = await http.request({
    method: "POST",
    path: "/identity/v3/auth/tokens?nocatalog",
    headers: json,
    body: passwordBody,
  });
  await r.body.dump();
  return r.statusCode === 201 ? String(r.headers["x-subject-token"]) : null;
}

try {
  const cost = 17;
  const t = performance.now();
  scryptSync("x", "saltsaltsaltsalt", 32, { N: 2 ** cost, r: 8, p: 1, maxmem: 512 * 1024 * 1024 });
  const hashMs = performance.now() - t;
  const cores = cpus().length;
  console.log(
    `password hash: scrypt N=2^${cost} r=8 costs ${hashMs.toFixed(0)} ms here (bcrypt cost 12 ≈ 200 ms); ceiling ≈ ${cores} cores ÷ hash time = ${((cores * 1000) / hashMs).toFixed(1)} issues/s`,
  );
  const admin = await issuePassword();
  if (!admin) throw new Error("could not get an admin token");
  const subjects: string[] = [];
  for (let i = 0; i < 20; i++) subjects.push((await issuePassword()) as string);
  const results: Result[] = [];
  results.push(await measure("issue by password", 4, seconds, async () => (await issuePassword()) !== null));
  const rescope = JSON.stringify({
    auth: { identity: { methods: ["token"], token: { id: admin } }, scope: { system: { all: true } } },
  });
  const adminRescope = JSON.stringify({
    auth: {
      identity: { methods: ["token"], token: { id: admin } },
      scope: { project: { name: "admin", domain: { id: "default" } } },
    },
  });
  results.push(
    await measure("issue by token (rescope)", 32, seconds, async (i) => {
      const r = await http.request({
        method: "POST",
        path: "/identity/v3/auth/tokens",
        headers: json,
        body: i % 2 ? rescope : adminRescope,
      });
      await r.body.dump();
      return r.statusCode === 201;
    }),
  );
  results.push(
    await measure("validate (GET /v3/auth/tokens)", 32, seconds, async (i) => {
      const r = await http.request({
        method: "GET",
        path: "/identity/v3/auth/tokens",
        headers: { "x-auth-token": admin, "x-subject-token": subjects[i % subjects.length] },
      });
      await r.body.dump();
      return r.statusCode === 200;
    }),
  );
  printTable(results, {
    "issue by password": "Keystone 8/s; bounded by the hash",
    "issue by token (rescope)": "target ≥ 2,000/s; Keystone 160/s",
    "validate (GET /v3/auth/tokens)": "target ≥ 10,000/s; Keystone 150–200/s",
  });
} finally {
  await http.close();
  await cloud.stop();
}
