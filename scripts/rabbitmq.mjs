// Make the RabbitMQ broker the bus tests need reachable on loopback (127.0.0.1:5672, guest/guest, vhost "/"): use it
// when it answers, start the installed Debian package when it does not, and (as root, when allowed) apt-get install
// it first. Also helpers for the tests: rabbitmqctl, and a temporary vhost per test run.
//
//   import { ensureRabbitMQ } from "./rabbitmq.mjs";
//   const st = await ensureRabbitMQ();     // { usable, url, reason, actions, ctl }
//   node scripts/rabbitmq.mjs [--no-install] [--json] [--timeout=SECONDS]
//
// Only loopback addresses are ever contacted. STRATUS_TEST_AMQP_URL picks another loopback URL (e.g. another port
// or user); a non-loopback URL is refused. Installing happens only as root, and from the tests only with CI set or
// STRATUS_INSTALL=1.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { pathToFileURL } from "node:url";

export const DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const isRoot = () => process.getuid?.() === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const redact = (url) => url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");

/** Whether a URL's host is a loopback address (the only kind this script talks to). */
export function isLoopbackUrl(url) {
  try {
    return LOOPBACK.has(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** Whether something accepts TCP connections on host:port within timeoutMs. */
export function portAnswers(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: host.replace(/^\[|\]$/g, ""), port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

/** Run a command synchronously; {ok, status, out} with stdout+stderr trimmed. */
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 120_000,
    env: opts.env ?? process.env,
  });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error.message) : ""}`.trim();
  return { ok: r.status === 0, status: r.status, out };
}

const hasCmd = (cmd) => sh("sh", ["-c", `command -v ${cmd}`]).ok;
const tail = (s, n = 6) => s.split("\n").slice(-n).join("\n");

/** Run rabbitmqctl (needs root or the rabbitmq user, for the Erlang cookie). Resolves {ok, out}. */
export function rabbitmqctl(args, { timeoutMs = 60_000 } = {}) {
  if (!hasCmd("rabbitmqctl")) return { ok: false, out: "rabbitmqctl is not installed" };
  return sh("rabbitmqctl", args, { timeoutMs });
}

/** Log in over AMQP once. Resolves {ok} or {ok:false, kind: "auth"|"down"|"other", message}. */
export async function tryLogin(url) {
  try {
    const { connect } = await import("amqplib");
    const c = await connect(url, { timeout: 3000 });
    c.on("error", () => {});
    await c.close();
    return { ok: true };
  } catch (e) {
    const message = String(e?.message ?? e);
    if (e?.code === "ERR_MODULE_NOT_FOUND")
      return { ok: false, kind: "other", message: "amqplib is not installed (npm install)" };
    if (/ACCESS_REFUSED|403|access to vhost/i.test(message)) return { ok: false, kind: "auth", message };
    if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|timeout|closed|socket/i.test(message))
      return { ok: false, kind: "down", message };
    return { ok: false, kind: "other", message };
  }
}

/** Loopback-only settings for a broker this script installed (the Debian default listens on every interface). */
function writeLoopbackConfig(log) {
  mkdirSync("/etc/rabbitmq", { recursive: true });
  const conf = "/etc/rabbitmq/rabbitmq.conf";
  const text = existsSync(conf) ? readFileSync(conf, "utf8") : "";
  if (!/^\s*listeners\.tcp/m.test(text)) {
    writeFileSync(
      conf,
      `${text}${text && !text.endsWith("\n") ? "\n" : ""}listeners.tcp.local = 127.0.0.1:5672\n`,
    );
    log(`${conf}: listen on 127.0.0.1:5672 only`);
  }
  const env = "/etc/rabbitmq/rabbitmq-env.conf";
  const etext = existsSync(env) ? readFileSync(env, "utf8") : "";
  const add = [];
  if (!/^\s*NODENAME=/m.test(etext)) add.push("NODENAME=rabbit@localhost");
  if (!/^\s*ERL_EPMD_ADDRESS=/m.test(etext)) add.push("ERL_EPMD_ADDRESS=127.0.0.1");
  if (add.length) {
    writeFileSync(env, `${etext}${etext && !etext.endsWith("\n") ? "\n" : ""}${add.join("\n")}\n`);
    log(`${env}: ${add.join(", ")}`);
  }
}

/** apt-get install rabbitmq-server (as root). Returns a sentence, or throws. */
function aptInstall(log) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  log("apt-get update");
  const u = sh("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"], { env, timeoutMs: 600_000 });
  if (!u.ok) throw new Error(`apt-get update failed: ${tail(u.out)}`);
  const args = [
    "-o",
    "DPkg::Lock::Timeout=300",
    "install",
    "-y",
    "--no-install-recommends",
    "rabbitmq-server",
  ];
  log(`apt-get ${args.join(" ")}`);
  const r = sh("apt-get", args, { env, timeoutMs: 1_200_000 });
  if (!r.ok) throw new Error(`apt-get install rabbitmq-server failed: ${tail(r.out)}`);
  return "installed rabbitmq-server with apt-get";
}

/** Start the installed broker: start_app if its Erlang node runs with the app stopped, else rabbitmq-server -detached. */
function startBroker() {
  if (rabbitmqctl(["ping"], { timeoutMs: 30_000 }).ok) {
    const r = rabbitmqctl(["start_app"], { timeoutMs: 120_000 });
    if (!r.ok) throw new Error(`rabbitmqctl start_app failed: ${tail(r.out)}`);
    return "started the RabbitMQ application: rabbitmqctl start_app";
  }
  const r = sh("rabbitmq-server", ["-detached"], { timeoutMs: 60_000 });
  if (!r.ok) throw new Error(`rabbitmq-server -detached failed: ${tail(r.out)}`);
  return "started RabbitMQ: rabbitmq-server -detached";
}

/**
 * Make RabbitMQ usable on loopback. If the port answers and guest logs in, done; else start the installed Debian
 * server; else, as root with `install` allowed, apt-get install it and start it; then wait (up to timeoutMs)
 * until a login works.
 *
 * Resolves to { usable, url, reason, actions, ctl }: `ctl` tells whether rabbitmqctl works here (needed for
 * temporary vhosts and the broker-restart tests). Never rejects.
 */
export async function ensureRabbitMQ(opts = {}) {
  const {
    install = true,
    timeoutMs = 90_000,
    env = process.env,
    log = (msg) => process.stderr.write(`[rabbitmq] ${msg}\n`),
  } = opts;
  const url = env.STRATUS_TEST_AMQP_URL || DEFAULT_URL;
  const st = { usable: false, url: null, reason: null, actions: [], ctl: false };
  if (!isLoopbackUrl(url)) {
    st.reason = `refusing non-loopback URL ${redact(url)}: only 127.0.0.1, localhost and ::1 are used`;
    return st;
  }
  const u = new URL(url);
  const host = u.hostname;
  const port = Number(u.port || 5672);
  try {
    if (await portAnswers(host, port)) st.actions.push(`RabbitMQ already answers on ${host}:${port}`);
    else {
      const installed = hasCmd("rabbitmq-server") && hasCmd("rabbitmqctl");
      if (!installed) {
        const why = !install
          ? "installing it was not allowed here (the tests install only with CI=true or STRATUS_INSTALL=1; or run `node scripts/rabbitmq.mjs` as root)"
          : !isRoot()
            ? "installing it needs root: sudo apt-get install -y rabbitmq-server"
            : !hasCmd("apt-get")
              ? "apt-get is not available on this system"
              : null;
        if (why) {
          st.reason = `RabbitMQ is not running on ${host}:${port} and not installed; ${why}`;
          return st;
        }
        st.actions.push(aptInstall(log));
        // Before its first start by us: a fresh Debian install would listen on every interface.
        writeLoopbackConfig(log);
      }
      if (!(await portAnswers(host, port))) {
        if (!isRoot()) {
          st.reason = `RabbitMQ is installed but not running on ${host}:${port}; starting it needs root (rabbitmq-server -detached)`;
          return st;
        }
        const what = startBroker();
        st.actions.push(what);
        log(what);
      }
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await tryLogin(url);
      if (r.ok) break;
      if (r.kind !== "down") {
        st.reason = `RabbitMQ answers on ${host}:${port} but logging in as ${decodeURIComponent(u.username || "guest")} failed: ${r.message}`;
        return st;
      }
      if (Date.now() > deadline) {
        st.reason = `RabbitMQ did not become ready on ${host}:${port} within ${Math.round(timeoutMs / 1000)} s: ${r.message}`;
        return st;
      }
      await sleep(500);
    }
  } catch (err) {
    st.reason = String(err?.message ?? err);
    return st;
  }
  st.usable = true;
  st.url = url;
  st.ctl = rabbitmqctl(["ping"], { timeoutMs: 30_000 }).ok;
  log(`RabbitMQ: usable at ${redact(url)}${st.ctl ? "" : " (rabbitmqctl does not work here)"}`);
  return st;
}

/** The URL of vhost `name` on the broker `url` points at (same user, password, host and port). */
export function vhostUrl(url, name) {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

/** Create a vhost and give `user` full permissions on it (rabbitmqctl). Throws on failure. */
export function addVhost(name, user = "guest") {
  const a = rabbitmqctl(["add_vhost", name]);
  if (!a.ok && !/already exists/i.test(a.out))
    throw new Error(`rabbitmqctl add_vhost ${name}: ${tail(a.out)}`);
  const p = rabbitmqctl(["set_permissions", "-p", name, user, ".*", ".*", ".*"]);
  if (!p.ok) throw new Error(`rabbitmqctl set_permissions -p ${name} ${user}: ${tail(p.out)}`);
}

/** Delete a vhost and everything in it. Returns {ok, out}. */
export function deleteVhost(name) {
  return rabbitmqctl(["delete_vhost", name]);
}

async function cli(argv) {
  const flag = (name) => argv.includes(`--${name}`);
  const value = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (flag("help") || flag("h")) {
    process.stdout.write(
      "usage: node scripts/rabbitmq.mjs [--no-install] [--json] [--timeout=SECONDS]\n" +
        "Makes RabbitMQ reachable on 127.0.0.1:5672 (guest/guest) for the bus tests; installs it as root.\n" +
        "Exit status 0 when it is usable.\n",
    );
    return 0;
  }
  const st = await ensureRabbitMQ({
    install: !flag("no-install"),
    timeoutMs: Number(value("timeout") ?? 90) * 1000,
  });
  if (flag("json")) process.stdout.write(`${JSON.stringify(st, null, 2)}\n`);
  else if (!st.usable) process.stderr.write(`RabbitMQ is not usable: ${st.reason}\n`);
  return st.usable ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${e?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
