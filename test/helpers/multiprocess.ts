// Setup for the process-level tests (test/e2e/multiprocess*.test.ts): a temporary PostgreSQL database, RabbitMQ
// vhost and data directory for a cloud split over several `bin/stratus` processes; starting `bin/stratus up` on
// them; logging in; JSON requests; and a poll that also retries failed attempts.
//
// PostgreSQL (scripts/db-services.mjs) and RabbitMQ (scripts/rabbitmq.mjs) are started when installed; when one
// cannot be used the setup gives the reason to skip with, unless CI is set: then it fails.
import { strict as assert } from "node:assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Engine } from "../../src/shared/db/index.js";
import { createTempDatabase, prepareServers } from "./engines.js";
import { rabbitVhost } from "./rabbit.js";
import { Proc, wipeVolumeDaemons } from "./stratus-process.js";
import { eventually, WAIT_MS } from "./wait.js";

/** The shared infrastructure of a multi-process cloud, and how to remove it all. */
export interface ProcessCloudEnv {
  /** The URL of a fresh PostgreSQL (or MariaDB) database. */
  dbUrl: string;
  /** The URL of a fresh RabbitMQ vhost. */
  busUrl: string;
  /** A fresh directory for the processes' data directories. */
  root: string;
  /** Drop the database and the vhost, and remove `root` (errors are ignored). */
  cleanup(): Promise<void>;
}

/**
 * A fresh PostgreSQL (or `engine`) database `stratus_${name}_<hex>`, RabbitMQ vhost and directory
 * `stratus-e2e-${name}-*`; or the reason to skip when one of the servers cannot be used (with CI set, that throws).
 */
export async function processCloudEnv(
  name: string,
  engine: Exclude<Engine, "sqlite"> = "postgres",
): Promise<ProcessCloudEnv | { skip: string }> {
  await prepareServers([engine]);
  const db = await createTempDatabase(engine, { dataDir: "", prefix: `stratus_${name}` });
  if (db.skipReason) return { skip: db.skipReason };
  const vhost = await rabbitVhost().catch(async (e: unknown) => {
    await db.drop();
    throw e; // under CI when RabbitMQ is missing
  });
  if ("skip" in vhost) {
    await db.drop();
    return vhost;
  }
  const root = mkdtempSync(join(tmpdir(), `stratus-e2e-${name}-`));
  const cleanup = async () => {
    for (const fn of [
      () => vhost.drop(),
      () => db.drop(),
      // The processes' volume agents (their run directory follows from the data directory) leave their target and
      // export daemons running for a next agent: stop them before the directory goes.
      () => wipeVolumeDaemons(root),
      () => rmSync(root, { recursive: true, force: true }),
    ])
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
  };
  return { dbUrl: db.url, busUrl: vhost.url, root, cleanup };
}

/** A started `bin/stratus up`: the process, its clouds.yaml clouds and its public base URL. */
export interface UpProcess {
  proc: Proc;
  clouds: Record<string, any>;
  base: string;
}

/**
 * Start `bin/stratus up` on `dataDir` (with its stratus.yaml), the database and the bus, on a free loopback port,
 * with `args` added; wait (at most `timeoutMs`) until it is ready and has written a new clouds.yaml (else stop it).
 */
export async function startUp(
  name: string,
  o: { dataDir: string; dbUrl: string; busUrl: string; args?: string[] },
  timeoutMs: number,
): Promise<UpProcess> {
  const cloudsYaml = join(o.dataDir, "clouds.yaml");
  mkdirSync(o.dataDir, { recursive: true });
  rmSync(cloudsYaml, { force: true }); // another process on this data directory wrote one
  // prettier-ignore
  const proc = new Proc(name, [
    "up", "--data-dir", o.dataDir, "--config", join(o.dataDir, "stratus.yaml"), "--host", "127.0.0.1",
    "--port", "0", "--db", o.dbUrl, "--bus", o.busUrl, ...(o.args ?? []), "--log-level", "warn",
    // The noop network driver unless a test asks: functional tests make no kernel state.
    ...(o.args?.includes("--network-driver") ? [] : ["--network-driver", "noop"]),
  ]);
  await proc.waitFor(/Stratus is ready/, timeoutMs).catch(async (e: unknown) => {
    await proc.stop();
    throw e;
  });
  const clouds = (parseYaml(readFileSync(cloudsYaml, "utf8")) as { clouds: Record<string, any> }).clouds;
  const base = (clouds["stratus-admin"].auth.auth_url as string).replace(/\/identity\/v3\/?$/, "");
  return { proc, clouds, base };
}

/** What a request answered: the status, the body parsed (null when empty or not JSON), its text and headers. */
export interface JsonResponse {
  status: number;
  body: any;
  text: string;
  headers: Headers;
}

/** One HTTP request to `base + path`: a Buffer body is sent as it is, any other as JSON. */
export async function request(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<JsonResponse> {
  const { token, body, headers } = opts;
  const r = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { "x-auth-token": token } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await r.text();
  let parsed: any = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null; // Glance's errors are HTML
  }
  return { status: r.status, body: parsed, text, headers: r.headers };
}

/** A project-scoped password token of a Default-domain user (asserted issued), and the project's id. */
export async function login(
  base: string,
  user: string,
  password: string,
  project: string,
): Promise<{ token: string; project: string }> {
  const r = await request(base, "POST", "/identity/v3/auth/tokens", {
    body: {
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: user, domain: { name: "Default" }, password } },
        },
        scope: { project: { name: project, domain: { name: "Default" } } },
      },
    },
  });
  assert.equal(r.status, 201, r.text);
  return { token: r.headers.get("x-subject-token") as string, project: r.body.token.project.id as string };
}

/**
 * Poll `fn` every `everyMs` until it returns a truthy value, which is returned; a failed attempt is tried again.
 * After `timeoutMs`, fail naming `what` and the last value or error.
 */
export function untilOk<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeoutMs = WAIT_MS,
  everyMs = 250,
): Promise<NonNullable<T>> {
  return eventually(
    async () => {
      let v: T;
      try {
        v = await fn();
      } catch (e) {
        throw new Error(`${what}: not within ${timeoutMs} ms (last: ${String(e)})`);
      }
      if (!v) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${String(v)})`);
      return v as NonNullable<T>;
    },
    timeoutMs,
    everyMs,
  );
}

/** Two `bin/stratus up` processes on one data directory, database and bus, with admin and demo logged in. */
export interface TwoProcessCloud {
  /** Each process's base URL. */
  bases: string[];
  admin: { token: string; project: string };
  demo: { token: string; project: string };
  /** A JSON request to `base` at compute microversion 2.37 (60 s timeout). */
  call(base: string, token: string, method: string, path: string, body?: unknown): Promise<JsonResponse>;
  /** A public 64 KiB raw image named `name`, uploaded through the second process; its id. */
  tinyImage(name: string): Promise<string>;
  /** Stop both processes and remove the database, vhost and directory. */
  stop(): Promise<void>;
}

/**
 * Start two API processes for the quota tests (`args[i]` added to process i's `up`, `config` as stratus.yaml) on a
 * fresh `engine` database and RabbitMQ vhost; or the reason to skip (with CI set, that throws).
 */
export async function twoProcessCloud(
  name: string,
  engine: Exclude<Engine, "sqlite">,
  config: string,
  args: [string[], string[]],
): Promise<TwoProcessCloud | { skip: string }> {
  const env = await processCloudEnv(name, engine);
  if ("skip" in env) return env;
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs) await p.stop().catch(() => undefined);
    await env.cleanup();
  };
  try {
    writeFileSync(join(env.root, "stratus.yaml"), config);
    const bases: string[] = [];
    let users: Pick<TwoProcessCloud, "admin" | "demo"> | null = null;
    // One after the other on the same data directory: the second finds the first's token keys and secrets.
    for (const [i, extra] of args.entries()) {
      const o = { dataDir: env.root, dbUrl: env.dbUrl, busUrl: env.busUrl, args: extra };
      const { proc, clouds, base } = await startUp(`api-${i + 1}`, o, 120_000);
      procs.push(proc);
      bases.push(base);
      users ??= {
        admin: await login(base, "admin", clouds["stratus-admin"].auth.password, "admin"),
        demo: await login(base, "demo", clouds["stratus-demo"].auth.password, "demo"),
      };
    }
    const call: TwoProcessCloud["call"] = (base, token, method, path, body) =>
      request(base, method, path, {
        token,
        body,
        headers: { "openstack-api-version": "compute 2.37" },
        timeoutMs: 60_000,
      });
    const admin = users!.admin;
    const tinyImage = async (imageName: string) => {
      const img = await call(bases[0], admin.token, "POST", "/image/v2/images", {
        name: imageName,
        disk_format: "raw",
        container_format: "bare",
        visibility: "public",
      });
      assert.equal(img.status, 201, img.text);
      const up = await request(bases[1], "PUT", `/image/v2/images/${img.body.id}/file`, {
        token: admin.token,
        body: Buffer.alloc(64 * 1024),
        headers: { "content-type": "application/octet-stream" },
      });
      assert.equal(up.status, 204, up.text);
      return img.body.id as string;
    };
    return { bases, ...users!, call, tinyImage, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
