// README.md's commands, run as written: `npm start` in a fresh HOME (so ~/.stratus is new) on a free port, then every
// line of every ```sh block in order, in one shell state (exported variables carry over), with Debian's CLI. Every
// command the README shows, in a block or inline, is either run here or listed in NOT_RUN with the reason.
import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../../src/shared/config.js";
import { pyEnv, ROOT, type ExecResult } from "../helpers/stratus-process.js";

/** One command line of the README, with its 1-based line number. */
interface Command {
  line: number;
  text: string;
}

/** Fenced block languages that are documentation, not commands. */
const NOT_COMMANDS = new Set(["yaml", "text", "json"]);

/** Commands shown but not run here, with the reason; `instead` runs in a block's place (same files result). */
const NOT_RUN = new Map<string, { why: string; instead?: string }>([
  ["npm test", { why: "the suite this test is part of" }],
  ["npm test -- FILTER...", { why: "the suite this test is part of" }],
  ["npm ci", { why: "what npm start and npm test run themselves when node_modules is missing or stale" }],
  [
    "openstack server add volume",
    {
      why: "a prose mention without arguments; test/e2e/volume-guests.test.ts attaches volumes to real guests",
    },
  ],
  [
    "npm start -- FLAGS",
    { why: "a placeholder; the harness runs npm start with STRATUS_PORT, the same setting" },
  ],
  [
    "npm start -- --data-dir /tmp/cloud --port 9000 --host 0.0.0.0",
    { why: "binds a fixed port on every interface; the harness runs npm start itself" },
  ],
  ["stratus agent compute", { why: "the command below, with its flags" }],
  ["bin/stratus up", { why: "what npm start runs, which the harness runs" }],
  [
    "sudo bin/stratus public-exec [--data-dir DIR] -- ping 172.24.4.X",
    { why: "a template; the Servers block runs bin/stratus public-exec -- ssh to a floating IP" },
  ],
  [
    "stratus public-exec",
    { why: "its name; the Servers block runs bin/stratus public-exec -- ssh to a floating IP" },
  ],
  [
    "npm run tempest",
    { why: "tempest runs for many minutes; each `npm run tempest -- SUITE` is checked to exist" },
  ],
  ["stratus up", { why: "what npm start runs (bin/stratus up), which the harness runs" }],
  [
    "stratus agent compute --host NAME --db URL --bus amqp://...",
    { why: "needs a shared database and RabbitMQ: test/e2e/multiprocess.test.ts runs agents apart" },
  ],
  ...[
    "sudo STRATUS_ADMIN_PASSWORD=admin-secret bin/stratus up --host 192.168.1.10 --db postgresql://stratus:pw@192.168.1.10/stratus --bus amqp://stratus:pw@192.168.1.10/stratus --tunnel-ip 192.168.1.10",
    "sudo STRATUS_SERVICE_PASSWORD=admin-secret bin/stratus agent compute --host cn2 --compute-driver qemu --auth-url http://192.168.1.10:8080/identity/v3 --db postgresql://stratus:pw@192.168.1.10/stratus --bus amqp://stratus:pw@192.168.1.10/stratus --tunnel-ip 192.168.1.11",
    "openstack network agent list",
    "openstack server create --image stratus-guest-direct --flavor m1.tiny --network private --availability-zone nova:cn2 vm-cn2",
  ].map(
    (cmd) =>
      [
        cmd,
        {
          why: "Adding a host needs a second machine: test/e2e/network-two-hosts.test.ts runs these with the second host in a network namespace",
        },
      ] as [string, { why: string }],
  ),
  [
    "sudo bin/stratus agent volume --host cn2 --db postgresql://stratus:pw@192.168.1.10/stratus --bus amqp://stratus:pw@192.168.1.10/stratus",
    {
      why: "needs a shared database and RabbitMQ: test/e2e/volume-agent-kill.test.ts runs stratus agent volume apart",
    },
  ],
  [
    "sudo apt-get install python3-openstackclient python3-osc-placement",
    { why: "needs root; npm test installs these packages before any test (checked below)" },
  ],
  [
    "curl -fLo cirros.qcow2 https://download.cirros-cloud.net/0.6.2/cirros-0.6.2-x86_64-disk.img",
    {
      why: "CI has no internet; a qcow2 made by qemu-img takes its place",
      instead: "qemu-img create -f qcow2 cirros.qcow2 112M",
    },
  ],
]);
/**
 * Commands the README shows that do not work yet, with the change that makes them work. They run and must still
 * fail: when one starts to work, this test fails until its entry is removed.
 */
const PENDING = new Map<string, string>([]);
/** `npm run tempest|bench -- NAME`: too long for CI; the test checks that NAME exists. */
const LONG_RUNNING = /^npm run (tempest|bench) -- (\S+)/;

/** Inline commands run after the blocks (in the state they left), each with a check of its own. */
const INLINE_RUN = new Map<string, string>([
  [
    "openstack console url show --novnc",
    "openstack server create cvm --image stratus-guest-direct --flavor m1.tiny --wait >/dev/null && " +
      "openstack console url show --novnc cvm -f value -c url | grep -q '/vnc/vnc_lite.html?path=' && " +
      "openstack server delete --wait cvm",
  ],
  [
    ". ~/.stratus/admin-openrc",
    "env -u OS_CLOUD -u OS_CLIENT_CONFIG_FILE bash -ec '. ~/.stratus/admin-openrc; openstack server list'",
  ],
  ["bin/stratus up --help", `cd ${ROOT} && bin/stratus up --help | grep -e --data-dir`],
  ["bin/stratus agent compute --help", `cd ${ROOT} && bin/stratus agent compute --help | grep -e --auth-url`],
  [
    "bin/stratus agent network --help",
    `cd ${ROOT} && bin/stratus agent network --help | grep -e --tunnel-ip`,
  ],
  ["bin/stratus up --no-volume-agent", `cd ${ROOT} && bin/stratus up --help | grep -e --no-volume-agent`],
  [
    "bin/stratus agent volume --help",
    `cd ${ROOT} && bin/stratus agent volume --help | grep -e --volume-backend`,
  ],
  [
    "sudo bin/stratus wipe-volumes --data-dir DIR",
    // The cloud still runs; after() checks that its stop left no volume daemon.
    `cd ${ROOT} && bin/stratus wipe-volumes --help | grep -e --data-dir`,
  ],
  [
    "openstack subnet set --dhcp public-subnet",
    // As the admin (the public network is the admin project's); DHCP is turned off again afterwards.
    "export OS_CLOUD=stratus-admin && openstack subnet set --dhcp public-subnet && " +
      "openstack subnet show public-subnet -f value -c enable_dhcp | grep -qx True && " +
      "openstack subnet set --no-dhcp public-subnet",
  ],
  [
    "sudo bin/stratus wipe-network [--data-dir DIR]",
    // The cloud still runs: wipe-network is for a stopped one, so only its help is run here.
    `cd ${ROOT} && bin/stratus wipe-network --help | grep -e --data-dir`,
  ],
]);

/** How long npm start may take to say it is ready (it may build first), and one README command. */
const START_TIMEOUT_MS = 600_000; // the first start may build the guest image
const COMMAND_TIMEOUT_MS = 120_000;

/** Run a command with a deadline (SIGKILL when it passes; stderr then says so). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ExecResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", rej);
    child.on("close", (code, signal) =>
      res({
        code,
        stdout,
        stderr: signal ? `${stderr}\n(killed by ${signal} after ${timeoutMs / 1000} s)` : stderr,
      }),
    );
  });
}

/** The README's fenced blocks: language and command lines (comments and blank lines dropped). */
function fencedBlocks(md: string): { lang: string; line: number; commands: Command[] }[] {
  const lines = md.split("\n");
  const out: { lang: string; line: number; commands: Command[] }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const block = { lang: open[1], line: i + 1, commands: [] as Command[] };
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) {
      const text = lines[i].trim();
      if (text && !text.startsWith("#")) block.commands.push({ line: i + 1, text });
    }
    out.push(block);
  }
  return out;
}

/** The README's inline code spans outside fenced blocks that are commands someone would type. */
function inlineCommands(md: string): string[] {
  const prose = md.replace(/^```[^\n]*\n[\s\S]*?^```\s*$/gm, "");
  const spans = [...prose.matchAll(/`([^`\n]+)`/g)].map((m) => m[1].trim());
  const starts = /^(npm |openstack |bin\/stratus |stratus |sudo |curl |\. |export |OS_CLOUD=)/;
  return [...new Set(spans.filter((s) => starts.test(s)))];
}

/** The command with its trailing comment removed, and an expected HTTP error status from a `# 403: ...` comment. */
function splitComment(text: string): { command: string; expectStatus?: number } {
  const m = /^(.*?)\s+#\s*(.*)$/.exec(text);
  if (!m) return { command: text };
  const status = /^([45]\d\d)\b/.exec(m[2]);
  return { command: m[1], expectStatus: status ? Number(status[1]) : undefined };
}

describe("README.md: every command works as written against a fresh npm start", () => {
  const md = readFileSync(join(ROOT, "README.md"), "utf8");
  const blocks = fencedBlocks(md);
  let home = "";
  let work = "";
  let state = "";
  let cloud: ChildProcess | undefined;
  let cloudOut = "";

  /** Run one command line in bash with the shell state so far; a success saves the state for the next line. */
  const sh = (command: string, saveState = true): Promise<ExecResult> =>
    run(
      "bash",
      [
        "-c",
        `. "${state}"; set -eo pipefail; set -a; cd "${work}"\n${command}\n` +
          (saveState ? `export -p > "${state}.new" && mv "${state}.new" "${state}"` : ""),
      ],
      pyEnv({ HOME: home }),
      COMMAND_TIMEOUT_MS,
    );

  before(async () => {
    // npm start installs and builds when stale; here that would run npm ci under other tests' feet (npm test
    // has just installed and built, so this only trips when this file is run on its own after a change).
    const setup = (await import(pathToFileURL(join(ROOT, "scripts", "lib", "setup.mjs")).href)) as {
      nodeDepsStaleness(): string | null;
      buildStaleness(): string | null;
    };
    const stale = setup.nodeDepsStaleness() ?? setup.buildStaleness();
    assert.equal(stale, null, "run this through npm test, which installs and builds first");
    home = await mkdtemp(join(tmpdir(), "stratus-readme-"));
    work = join(home, "work");
    await mkdir(work);
    // The README's commands run where a user runs them, in the checkout (bin/stratus); files they make stay here.
    await symlink(join(ROOT, "bin"), join(work, "bin"));
    state = join(home, "shell-state.sh");
    await writeFile(state, "");
    // The README's `npm start`, as a user runs it, with HOME (so ~/.stratus) fresh and a free port.
    // The default driver, as a user gets it (qemu where QEMU is installed), sharing the guest image build cache.
    const env: NodeJS.ProcessEnv = {
      HOME: home,
      STRATUS_PORT: "0",
      STRATUS_PASSWORD_HASH_COST: "12",
      STRATUS_CACHE: process.env.STRATUS_CACHE ?? join(homedir(), ".cache", "stratus"),
    };
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith("STRATUS_") && k !== "HOME") env[k] = v;
    cloud = spawn("npm", ["start"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    cloud.stdout!.on("data", (d: Buffer) => (cloudOut += d.toString()));
    cloud.stderr!.on("data", (d: Buffer) => (cloudOut += d.toString()));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!cloudOut.includes("Stratus is ready")) {
      if (cloud.exitCode !== null || cloud.signalCode !== null) assert.fail(`npm start exited:\n${cloudOut}`);
      if (Date.now() > deadline)
        assert.fail(`npm start was not ready within ${START_TIMEOUT_MS / 1000} s:\n${cloudOut}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    if (cloud?.pid && cloud.exitCode === null && cloud.signalCode === null) {
      // As Ctrl-C at a terminal does: SIGINT to the whole process group (npm, scripts/start.mjs, stratus).
      const exited = new Promise((r) => cloud!.once("exit", r));
      process.kill(-cloud.pid, "SIGINT");
      const timer = setTimeout(() => process.kill(-cloud!.pid!, "SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    }
    // Its stop stopped its volume daemons (only a crash leaves them): nothing for wipe-volumes to do.
    if (home) {
      const left = await run(
        join(ROOT, "bin", "stratus"),
        ["wipe-volumes", "--data-dir", join(home, ".stratus")],
        process.env,
        COMMAND_TIMEOUT_MS,
      );
      assert.equal(left.code, 0, `stratus wipe-volumes: ${left.stderr}`);
      assert.equal(left.stdout.trim(), "nothing to stop", "the stopped cloud left volume daemons running");
    }
    // As root the cloud ran the linux data plane, which outlives it by design: remove it as the README says.
    if (home && process.getuid?.() === 0) {
      const wiped = await run(
        join(ROOT, "bin", "stratus"),
        ["wipe-network", "--data-dir", join(home, ".stratus")],
        process.env,
        COMMAND_TIMEOUT_MS,
      );
      assert.equal(wiped.code, 0, `stratus wipe-network: ${wiped.stderr}`);
    }
    if (home) await rm(home, { recursive: true, force: true });
  });

  test("every fenced block is marked: sh blocks are commands, the others documentation", () => {
    for (const b of blocks)
      assert.ok(
        b.lang === "sh" || NOT_COMMANDS.has(b.lang),
        `README.md:${b.line}: mark the block sh or text`,
      );
    assert.ok(blocks.some((b) => b.lang === "sh" && b.commands.some((c) => c.text.startsWith("npm start"))));
  });

  test("every sh block runs, line by line, in order", async (t) => {
    for (const b of blocks.filter((x) => x.lang === "sh")) {
      for (const { line, text } of b.commands) {
        const { command, expectStatus } = splitComment(text);
        if (command === "npm start") continue; // the harness's own, above
        const skip = NOT_RUN.get(command);
        if (skip && !skip.instead) {
          t.diagnostic(`README.md:${line}: not run (${skip.why}): ${command}`);
          continue;
        }
        const r = await sh(skip?.instead ?? command);
        const where = `README.md:${line}: ${command}\nexit ${r.code}\n${r.stdout}\n${r.stderr}`;
        const pending = PENDING.get(command);
        if (pending) {
          assert.notEqual(r.code, 0, `${where}\nthis works now: remove it from PENDING`);
          t.diagnostic(`README.md:${line}: fails until ${pending}: ${command}`);
        } else if (expectStatus === undefined) assert.equal(r.code, 0, where);
        else {
          assert.notEqual(r.code, 0, where);
          assert.match(r.stderr, new RegExp(`HTTP ${expectStatus}`), where);
        }
      }
    }
  });

  test("inline commands are run or listed with a reason; long ones name what exists", async () => {
    const tempest = readFileSync(join(ROOT, "scripts", "tempest.mjs"), "utf8");
    const inBlocks = new Set(blocks.flatMap((b) => b.commands.map((c) => splitComment(c.text).command)));
    for (const cmd of inlineCommands(md)) {
      const long = LONG_RUNNING.exec(cmd);
      if (long) {
        const [, kind, name] = long;
        if (kind === "bench")
          assert.ok(existsSync(join(ROOT, "bench", `${name}.ts`)), `no bench ${name}: ${cmd}`);
        else
          assert.match(
            tempest,
            new RegExp(`^  "?${name}"?: \\{\\s*regex`, "m"),
            `no tempest suite ${name}: ${cmd}`,
          );
        continue;
      }
      if (inBlocks.has(cmd)) continue;
      const script = INLINE_RUN.get(cmd);
      if (script === undefined) {
        assert.ok(NOT_RUN.has(cmd), `README shows \`${cmd}\`: run it in INLINE_RUN or list it in NOT_RUN`);
        continue;
      }
      const r = await sh(script, false);
      assert.equal(r.code, 0, `\`${cmd}\` (run as: ${script})\nexit ${r.code}\n${r.stdout}\n${r.stderr}`);
    }
    // The lists name only what the README still shows.
    for (const cmd of [...NOT_RUN.keys(), ...INLINE_RUN.keys(), ...PENDING.keys()])
      assert.ok(
        md.includes(cmd),
        `NOT_RUN, INLINE_RUN or PENDING lists \`${cmd}\`, which README.md no longer shows`,
      );
  });

  test("the configuration example is a valid stratus.yaml (lines whose value is a '...' placeholder left out)", async () => {
    const m = /^```yaml\n(region:[\s\S]*?)^```\s*$/m.exec(md);
    assert.ok(m, "README.md shows a stratus.yaml example starting with region:");
    const yaml = m[1]
      .split("\n")
      .filter((l) => !/:\s*\.\.\.(\s|$)/.test(l))
      .join("\n");
    const dir = await mkdtemp(join(tmpdir(), "stratus-readme-config-"));
    try {
      await writeFile(join(dir, "stratus.yaml"), yaml);
      const cfg = loadConfig({ dataDir: dir }, {});
      assert.ok(cfg.volume.backends.length > 0 && Object.keys(cfg.object.containerSync.realms).length > 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("npm run bench installs the Debian packages a cloud needs, as npm start does (a fresh machine had no tgtd)", () => {
    for (const script of ["start.mjs", "bench.mjs"]) {
      const text = readFileSync(join(ROOT, "scripts", script), "utf8");
      assert.match(text, /ensureDebianPackages\(names\(RUNTIME_PACKAGES\)/, script);
    }
  });

  test("the CLI packages the README asks for are ones npm test installs", async () => {
    const { TEST_PACKAGES } = (await import(
      pathToFileURL(join(ROOT, "scripts", "lib", "packages.mjs")).href
    )) as {
      TEST_PACKAGES: { pkg: string }[];
    };
    const apt = [...NOT_RUN.keys()].find((c) => c.startsWith("sudo apt-get install "))!;
    for (const pkg of apt.split(" ").slice(3))
      assert.ok(
        TEST_PACKAGES.some((p) => p.pkg === pkg),
        `${pkg} is not in TEST_PACKAGES`,
      );
  });
});
