// The block storage CLI tests' shared rig: one `bin/stratus up` child per test file with a chosen volume backend,
// Debian's `openstack` run against it (asserting success, JSON parsed), and waits for a resource's status.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before } from "node:test";
import {
  killStratus,
  openstack,
  startStratus,
  terminateStratus,
  type StratusProcess,
} from "../helpers/stratus-process.js";
import { until } from "../helpers/wait.js";

const CLI = "/usr/bin/openstack";

/** What a CLI test file drives. */
export interface VolumeCli {
  /** The running cloud (set once `before` has run). */
  s(): StratusProcess;
  /** `openstack ARGS -f json` as `cloud` (demo by default); asserts exit 0; the parsed JSON (or text with json=false). */
  os(args: string[], cloud?: string, json?: boolean): Promise<any>;
  /** Wait until `kind NAME` shows `want` (failing at once on an unexpected error status); the shown resource. */
  status(kind: string, name: string, want: string, cloud?: string): Promise<any>;
}

/** Register before/after hooks for a cloud with volume backend `backend`; call inside a describe block. */
export function volumeCli(prefix: string, backend: "fake" | "file"): VolumeCli {
  let s: StratusProcess | undefined;
  before(async () => {
    if (!existsSync(CLI) && process.env.CI === "true") throw new Error(`${CLI} is missing`);
    s = await startStratus(prefix, { configYaml: `volume:\n  backend: ${backend}\n` });
  });
  after(async () => {
    if (s) await terminateStratus(s);
    await killStratus(s);
  });
  const cli: VolumeCli = {
    s: () => {
      if (!s) throw new Error("the cloud has not started");
      return s;
    },
    async os(args, cloud = "stratus-demo", json = true) {
      const r = await openstack(cli.s(), [...args, ...(json ? ["-f", "json"] : [])], cloud);
      assert.equal(r.code, 0, `openstack ${args.join(" ")}: ${r.stderr}`);
      return json && r.stdout.trim() ? JSON.parse(r.stdout) : r.stdout;
    },
    status: (kind, name, want, cloud = "stratus-demo") =>
      until(
        `${kind} ${name} ${want}`,
        async () => {
          const v = await cli.os([...kind.split(" "), "show", name], cloud);
          if (v.status === "error" && want !== "error") throw new Error(`${kind} ${name} went to error`);
          return v.status === want ? v : null;
        },
        60_000,
        200,
      ),
  };
  return cli;
}
