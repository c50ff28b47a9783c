// Make the PostgreSQL and MariaDB servers the DB tests need reachable on loopback: use them when they answer,
// start the installed Debian packages when they do not, and (as root, when allowed) apt-get install them first.
//
//   import { ensureDatabases } from "./db-services.mjs";
//   const dbs = await ensureDatabases();           // { postgres: {usable, url, reason, actions}, mysql: {...} }
//   node scripts/db-services.mjs [--no-install] [--fix-auth] [--json] [--engines=postgres,mysql] [--timeout=SECONDS]
//
// Only 127.0.0.1 / localhost / ::1 are ever contacted. STRATUS_TEST_POSTGRES_URL and STRATUS_TEST_MYSQL_URL pick
// other loopback admin URLs (e.g. another port or a password); non-loopback URLs are refused.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chownSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The engines this script manages (names as in src/shared/db: "postgres" and "mysql" = MariaDB). */
export const SERVER_ENGINES = ["postgres", "mysql"];

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);
const isRoot = () => process.getuid?.() === 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Whether a URL's host is a loopback address (the only kind this script will talk to). */
export function isLoopbackUrl(url) {
  try {
    return LOOPBACK.has(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** The admin URLs to try for an engine, best first: the env override alone when set, else the usual local logins. */
function candidateUrls(engine, env) {
  const override = engine === "postgres" ? env.STRATUS_TEST_POSTGRES_URL : env.STRATUS_TEST_MYSQL_URL;
  if (override) return [override];
  if (engine === "postgres")
    return ["postgresql://postgres@127.0.0.1:5432/postgres", "postgresql://root@127.0.0.1:5432/postgres"];
  return ["mysql://root@127.0.0.1:3306/"];
}

/** The URL of database `name` on the server an admin URL points at (same user, password, host and port). */
export function databaseUrl(adminUrl, name) {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
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

/** Log in once and run a trivial query. Resolves {ok} or {ok:false, kind: "auth"|"down"|"other", message}. */
async function tryLogin(engine, url) {
  try {
    if (engine === "postgres") {
      const { default: pg } = await import("pg");
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      c.on("error", () => {});
      try {
        await c.connect();
        await c.query("select 1");
      } finally {
        await c.end().catch(() => {});
      }
    } else {
      const { default: mysql } = await import("mysql2/promise");
      const c = await mysql.createConnection({
        uri: url.replace(/^mariadb:/, "mysql:"),
        connectTimeout: 3000,
      });
      try {
        await c.query("select 1");
      } finally {
        await c.end().catch(() => {});
      }
    }
    return { ok: true };
  } catch (e) {
    const code = String(e?.code ?? "");
    const message = String(e?.message ?? e);
    if (code === "ERR_MODULE_NOT_FOUND")
      return {
        ok: false,
        kind: "other",
        message: `the ${engine} client module is not installed (npm install)`,
      };
    // 28P01 bad password, 28000 no pg_hba entry/role, 3D000 no such database; SCRAM without a password; MySQL 1045/1044.
    if (
      /^(28P01|28000|3D000|ER_ACCESS_DENIED_ERROR|ER_DBACCESS_DENIED_ERROR)$/.test(code) ||
      /password must be a string|authentication|Access denied/i.test(message)
    )
      return { ok: false, kind: "auth", message };
    // 57P03 "the database system is starting up", refused/reset connections while the server boots.
    if (
      /^(57P03|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|PROTOCOL_CONNECTION_LOST)$/.test(code) ||
      /starting up|timeout|terminat/i.test(message)
    )
      return { ok: false, kind: "down", message };
    return { ok: false, kind: "other", message };
  }
}

/** The first candidate URL that logs in, or the most telling failure. */
async function firstLogin(engine, urls) {
  let last = { ok: false, kind: "down", message: "no URL to try" };
  for (const url of urls) {
    const r = await tryLogin(engine, url);
    if (r.ok) return { ok: true, url };
    if (last.kind !== "auth") last = { ...r, url };
  }
  return last;
}

/** Run a command synchronously; returns {ok, status, out} with stdout+stderr (trimmed). */
function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 120_000,
    env: opts.env ?? process.env,
    input: opts.input,
  });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error.message) : ""}`.trim();
  return { ok: r.status === 0, status: r.status, out };
}

const hasCmd = (cmd) => sh("sh", ["-c", `command -v ${cmd}`]).ok;
const tail = (s, n = 6) => s.split("\n").slice(-n).join("\n");

/** Installed PostgreSQL clusters as {version, name, port}, from /etc/postgresql (Debian's postgresql-common). */
function pgClusters() {
  const root = "/etc/postgresql";
  if (!existsSync(root)) return [];
  const out = [];
  for (const version of readdirSync(root)) {
    const dir = join(root, version);
    let names = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const conf = join(dir, name, "postgresql.conf");
      if (!existsSync(conf)) continue;
      const m = /^\s*port\s*=\s*(\d+)/m.exec(readFileSync(conf, "utf8"));
      out.push({ version, name, port: m ? Number(m[1]) : 5432 });
    }
  }
  return out.sort((a, b) => Number(b.version) - Number(a.version));
}

/** Installed PostgreSQL server versions (/usr/lib/postgresql/<v>/bin/postgres), newest first. */
function pgServerVersions() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a));
}

const mariadbBinary = () => ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"].find((p) => existsSync(p)) ?? null;

/** Whether the Debian server package of an engine is installed (enough of it to start a server). */
function serverInstalled(engine) {
  if (engine === "postgres")
    return hasCmd("pg_ctlcluster") && (pgClusters().length > 0 || pgServerVersions().length > 0);
  return mariadbBinary() !== null;
}

/** Start an installed server. Returns a sentence saying what was run, or throws with the reason. */
function startServer(engine, port) {
  if (engine === "postgres") {
    const clusters = pgClusters();
    let cluster = clusters.find((c) => c.port === port);
    if (!cluster && clusters.length)
      throw new Error(
        `no PostgreSQL cluster is configured for port ${port} (have ${clusters.map((c) => `${c.version}/${c.name} on ${c.port}`).join(", ")})`,
      );
    if (!cluster) {
      const v = pgServerVersions()[0];
      if (!v) throw new Error("no PostgreSQL server version is installed");
      const r = sh("pg_createcluster", [v, "main", "--port", String(port)]);
      if (!r.ok) throw new Error(`pg_createcluster ${v} main failed: ${tail(r.out)}`);
      cluster = { version: v, name: "main", port };
    }
    const args = ["--skip-systemctl-redirect", cluster.version, cluster.name, "start"];
    const r = sh("pg_ctlcluster", args);
    // Exit 2 = "Cluster is already running." (still starting up, say) — fine, the readiness wait decides.
    if (!r.ok && !/already running/i.test(r.out))
      throw new Error(`pg_ctlcluster ${args.join(" ")} failed: ${tail(r.out)}`);
    return `started PostgreSQL: pg_ctlcluster ${args.join(" ")}`;
  }
  const bin = mariadbBinary();
  if (!bin) throw new Error("mariadbd is not installed");
  const defaults = sh(bin, ["--print-defaults"]).out;
  const configured = Number(/--port=(\d+)/.exec(defaults)?.[1] ?? 3306);
  if (configured !== port)
    throw new Error(`the installed MariaDB is configured for port ${configured}, not ${port}`);
  // No systemd here: create what its unit's RuntimeDirectory would, and the system tables if the package left none.
  mkdirSync("/run/mysqld", { recursive: true });
  const ids = sh("id", ["-u", "mysql"]);
  const gids = sh("id", ["-g", "mysql"]);
  if (ids.ok && gids.ok) chownSync("/run/mysqld", Number(ids.out), Number(gids.out));
  const datadir = /--datadir=(\S+)/.exec(defaults)?.[1] ?? "/var/lib/mysql";
  const installDb = ["mariadb-install-db", "mysql_install_db"].find(hasCmd);
  if (!existsSync(join(datadir, "mysql")) && installDb) {
    const r = sh(installDb, ["--user=mysql", `--datadir=${datadir}`], { timeoutMs: 180_000 });
    if (!r.ok) throw new Error(`${installDb} failed: ${tail(r.out)}`);
  }
  // As root, mariadbd refuses to run unless told which user to become: drop to mysql (never run it as root).
  const args = ["--start", "--oknodo", "--background", "--exec", bin, "--", "--user=mysql"];
  const r = sh("start-stop-daemon", args);
  if (!r.ok) throw new Error(`start-stop-daemon ${args.join(" ")} failed: ${tail(r.out)}`);
  return `started MariaDB: start-stop-daemon ${args.join(" ")}`;
}

/** Server log lines that explain a failed start. */
function startLogHint(engine) {
  let file = null;
  if (engine === "postgres") {
    const c = pgClusters()[0];
    if (c) file = `/var/log/postgresql/postgresql-${c.version}-${c.name}.log`;
  } else {
    const bin = mariadbBinary();
    file =
      (bin && /--log-error=(\S+)/.exec(sh(bin, ["--print-defaults"]).out)?.[1]) || "/var/log/mysql/error.log";
  }
  try {
    return file && existsSync(file) ? `\n${file}:\n${tail(readFileSync(file, "utf8"), 8)}` : "";
  } catch {
    return "";
  }
}

/**
 * Let the tests log in over loopback without a password on a server this script set up: PostgreSQL gets `trust`
 * lines for 127.0.0.1/::1 at the top of pg_hba.conf; MariaDB's root@localhost may also use an empty password
 * (besides unix_socket) and root@127.0.0.1 is created. Needs root (it uses the local socket as the superuser).
 */
function allowLoopbackLogin(engine) {
  if (!isRoot()) throw new Error("granting passwordless loopback access needs root");
  if (engine === "postgres") {
    const asPg = (sql) => sh("runuser", ["-u", "postgres", "--", "psql", "-X", "-Atqc", sql]);
    const f = asPg("SHOW hba_file");
    if (!f.ok) throw new Error(`psql as postgres failed: ${tail(f.out)}`);
    const hba = f.out.split("\n").pop().trim();
    const text = readFileSync(hba, "utf8");
    const marker = "# stratus scripts/db-services.mjs: passwordless loopback logins for the test suite";
    if (text.includes(marker)) return `${hba} already has the loopback trust lines`;
    writeFileSync(hba, `${marker}\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n\n${text}`);
    const r = asPg("SELECT pg_reload_conf()");
    if (!r.ok) throw new Error(`reloading PostgreSQL failed: ${tail(r.out)}`);
    return `added loopback trust lines to ${hba} and reloaded PostgreSQL`;
  }
  const client = ["mariadb", "mysql"].find(hasCmd);
  if (!client) throw new Error("no mariadb client to fix root's login with");
  const sql = [
    "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')",
    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''",
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION",
    "FLUSH PRIVILEGES",
  ].join(";\n");
  const r = sh(client, ["-uroot", "--protocol=socket"], { input: `${sql};\n` });
  if (!r.ok) throw new Error(`${client} -uroot failed: ${tail(r.out)}`);
  return "let MariaDB's root log in over loopback without a password";
}

/** apt-get install the server packages (as root). Returns a sentence, or throws. */
function aptInstall(pkgs, log) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  log(`apt-get update`);
  const u = sh("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"], { env, timeoutMs: 600_000 });
  if (!u.ok) throw new Error(`apt-get update failed: ${tail(u.out)}`);
  const args = ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", ...pkgs];
  log(`apt-get ${args.join(" ")}`);
  const r = sh("apt-get", args, { env, timeoutMs: 1_200_000 });
  if (!r.ok) throw new Error(`apt-get install ${pkgs.join(" ")} failed: ${tail(r.out)}`);
  return `installed ${pkgs.join(" ")} with apt-get`;
}

const PACKAGE = { postgres: "postgresql", mysql: "mariadb-server" };
const LABEL = { postgres: "PostgreSQL", mysql: "MariaDB" };

/**
 * Make PostgreSQL and MariaDB usable for tests on loopback.
 * Per engine: if the port answers and a login works, done; else start the installed Debian server; else, as root
 * with `install` allowed, apt-get install it and start it; then wait (up to timeoutMs) until a login works.
 * Servers this call started or installed also get passwordless loopback logins when needed (fixAuth: "auto");
 * `fixAuth: true` does that for an already-running local server too, `false` never.
 *
 * Resolves to { postgres: Status, mysql: Status } where Status = { usable: boolean, url: string | null (an admin
 * URL: postgres → the "postgres" database, mysql → no database), reason: string | null, actions: string[] }.
 * Never rejects: a failure is a Status with usable=false and the reason.
 */
export async function ensureDatabases(opts = {}) {
  const {
    engines = SERVER_ENGINES,
    install = true,
    fixAuth = "auto",
    timeoutMs = 90_000,
    env = process.env,
    log = (msg) => process.stderr.write(`[db-services] ${msg}\n`),
  } = opts;
  const status = {};
  const plan = {};
  for (const engine of engines) {
    const st = (status[engine] = { usable: false, url: null, reason: null, actions: [] });
    const urls = candidateUrls(engine, env);
    const bad = urls.find((u) => !isLoopbackUrl(u));
    if (bad) {
      st.reason = `refusing non-loopback URL ${bad.replace(/\/\/[^@/]*@/, "//***@")}: only 127.0.0.1, localhost and ::1 are used`;
      continue;
    }
    const u = new URL(urls[0]);
    const port = Number(u.port || (engine === "postgres" ? 5432 : 3306));
    plan[engine] = { urls, host: u.hostname, port, ours: false };
    if (await portAnswers(u.hostname, port)) {
      st.actions.push(`${LABEL[engine]} already answers on ${u.hostname}:${port}`);
      continue;
    }
    plan[engine].down = true;
  }

  // Install what is missing in one apt-get run (both packages at once saves minutes on a fresh machine).
  const down = Object.keys(plan).filter((e) => plan[e].down);
  const missing = down.filter((e) => !serverInstalled(e));
  if (missing.length) {
    const why = !install
      ? "installing it was not allowed here (run `node scripts/db-services.mjs` as root; the DB tests install only with CI=true or STRATUS_DB_INSTALL=1)"
      : !isRoot()
        ? `installing it needs root: sudo apt-get install -y ${missing.map((e) => PACKAGE[e]).join(" ")}`
        : !hasCmd("apt-get")
          ? "apt-get is not available on this system"
          : null;
    if (why) {
      for (const e of missing) {
        status[e].reason =
          `${LABEL[e]} is not running on ${plan[e].host}:${plan[e].port} and not installed; ${why}`;
        delete plan[e];
      }
    } else {
      try {
        const what = aptInstall(
          missing.map((e) => PACKAGE[e]),
          log,
        );
        for (const e of missing) status[e].actions.push(what);
        log(what);
      } catch (err) {
        for (const e of missing) {
          status[e].reason = String(err.message ?? err);
          delete plan[e];
        }
      }
    }
  }

  // Start what is installed but not answering (apt may have started it already in a system with an init).
  for (const engine of Object.keys(plan)) {
    const p = plan[engine];
    if (!p.down) continue;
    if (await portAnswers(p.host, p.port)) {
      status[engine].actions.push(`${LABEL[engine]} answers on ${p.host}:${p.port} after installation`);
      p.ours = true;
      continue;
    }
    if (!isRoot()) {
      status[engine].reason =
        `${LABEL[engine]} is installed but not running on ${p.host}:${p.port}; starting it needs root`;
      delete plan[engine];
      continue;
    }
    try {
      const what = startServer(engine, p.port);
      status[engine].actions.push(what);
      log(what);
      p.ours = true;
    } catch (err) {
      status[engine].reason = `could not start ${LABEL[engine]}: ${err.message ?? err}`;
      delete plan[engine];
    }
  }

  // Wait until a login works; fix loopback logins on servers we set up (or when told to).
  await Promise.all(
    Object.keys(plan).map(async (engine) => {
      const p = plan[engine];
      const st = status[engine];
      const deadline = Date.now() + timeoutMs;
      let fixed = false;
      for (;;) {
        const r = await firstLogin(engine, p.urls);
        if (r.ok) {
          st.usable = true;
          st.url = r.url;
          st.reason = null;
          return;
        }
        const mayFix = fixAuth === true || (fixAuth === "auto" && p.ours);
        const overridden =
          !!env[engine === "postgres" ? "STRATUS_TEST_POSTGRES_URL" : "STRATUS_TEST_MYSQL_URL"];
        if (r.kind === "auth" && mayFix && !fixed && !overridden) {
          fixed = true;
          try {
            const what = allowLoopbackLogin(engine);
            st.actions.push(what);
            log(what);
            continue;
          } catch (err) {
            st.reason = `${LABEL[engine]} runs but refuses the test login, and fixing that failed: ${err.message ?? err}`;
            return;
          }
        }
        if (r.kind === "auth" || r.kind === "other") {
          st.reason =
            `${LABEL[engine]} answers on ${p.host}:${p.port} but logging in as ${p.urls.map((u) => new URL(u).username || "(default user)").join(" or ")} failed: ${r.message}` +
            (r.kind === "auth" && !mayFix && !overridden
              ? ` (set STRATUS_TEST_${engine === "postgres" ? "POSTGRES" : "MYSQL"}_URL, or run \`node scripts/db-services.mjs --fix-auth\` as root)`
              : "");
          return;
        }
        if (Date.now() > deadline) {
          st.reason = `${LABEL[engine]} did not become ready on ${p.host}:${p.port} within ${Math.round(timeoutMs / 1000)} s: ${r.message}${startLogHint(engine)}`;
          return;
        }
        await sleep(500);
      }
    }),
  );
  for (const engine of engines) {
    const st = status[engine];
    log(
      st.usable
        ? `${LABEL[engine]}: usable at ${st.url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@")}`
        : `${LABEL[engine]}: NOT usable: ${st.reason}`,
    );
  }
  return status;
}

async function cli(argv) {
  const flag = (name) => argv.includes(`--${name}`);
  const value = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  if (flag("help") || flag("h")) {
    process.stdout.write(
      "usage: node scripts/db-services.mjs [--no-install] [--fix-auth] [--json] [--engines=postgres,mysql] [--timeout=SECONDS]\n" +
        "Makes PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) reachable for the DB tests.\n" +
        "Exit status 0 when every requested engine is usable.\n",
    );
    return 0;
  }
  const engines = (value("engines") ?? SERVER_ENGINES.join(",")).split(",").filter(Boolean);
  const unknown = engines.filter((e) => !SERVER_ENGINES.includes(e));
  if (unknown.length) {
    process.stderr.write(`unknown engine(s): ${unknown.join(", ")} (known: ${SERVER_ENGINES.join(", ")})\n`);
    return 2;
  }
  const status = await ensureDatabases({
    engines,
    install: !flag("no-install"),
    fixAuth: flag("fix-auth") ? true : "auto",
    timeoutMs: Number(value("timeout") ?? 90) * 1000,
  });
  if (flag("json")) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  return engines.every((e) => status[e].usable) ? 0 : 1;
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
