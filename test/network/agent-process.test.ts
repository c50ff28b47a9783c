// `stratus agent network` and the network agent of `stratus agent compute`: the checks made before anything is
// opened (driver, tunnel address, root, service user), the default driver, and the CLI's one-line refusals.
import { strict as assert } from "node:assert";
import { test } from "node:test";
import {
  agentNetworkDriver,
  checkNetworkAgentConfig,
  isLocalAddress,
  NetworkAgentStartError,
} from "../../src/cli/agent-network.js";
import { agentConfig } from "../../src/cli/agent.js";
import { exec, ROOT } from "../helpers/stratus-process.js";

const base = {
  db: "postgresql://u:p@127.0.0.1/x",
  bus: "amqp://u:p@127.0.0.1/v",
  dataDir: "/tmp/stratus-na-unused",
};
const isRoot = process.getuid?.() === 0;

test("the tunnel address must be one of this host's; loopback is", () => {
  assert.equal(isLocalAddress("127.0.0.1"), true);
  assert.equal(isLocalAddress("203.0.113.254"), false);
  const cfg = agentConfig(
    { ...base, networkDriver: "noop", tunnelIp: "203.0.113.254" },
    {},
    "a network agent",
  );
  assert.throws(
    () => checkNetworkAgentConfig(cfg),
    (e: unknown) =>
      e instanceof NetworkAgentStartError &&
      e.code === 2 &&
      /--tunnel-ip 203\.0\.113\.254 is not an address/.test(e.message),
  );
  checkNetworkAgentConfig(agentConfig({ ...base, networkDriver: "noop", tunnelIp: "127.0.0.1" }, {}));
});

test("an unknown driver is refused; linux needs root and the service user", () => {
  assert.throws(
    () => checkNetworkAgentConfig(agentConfig({ ...base, networkDriver: "ovs" }, {})),
    /--network-driver: Unknown network driver "ovs"/,
  );
  const linux = agentConfig({ ...base, networkDriver: "linux" }, {});
  assert.throws(
    () => checkNetworkAgentConfig(linux),
    isRoot ? /tells compute when a guest's tap is plugged: pass --auth-url/ : /run as root/,
  );
  if (isRoot)
    checkNetworkAgentConfig(
      agentConfig(
        { ...base, networkDriver: "linux", authUrl: "http://127.0.0.1:1/identity/v3" },
        {
          STRATUS_SERVICE_PASSWORD: "pw",
        },
      ),
    );
});

test("the default driver: the configured one, else linux as root where guests are real, else noop", () => {
  const cfg = agentConfig({ ...base, networkDriver: "noop" }, {});
  assert.equal(agentNetworkDriver(cfg, true, true), "noop");
  assert.equal(agentNetworkDriver(cfg, false, false), "noop");
  assert.equal(agentNetworkDriver(cfg, false, true), isRoot ? "linux" : "noop");
});

test("bin/stratus agent network: missing database, in-process bus, bad tunnel address: one line, exit 2", async () => {
  const stratus = `${ROOT}/bin/stratus`;
  const env = { ...process.env, STRATUS_DATA_DIR: "/tmp/stratus-na-unused" };
  const cases: Array<[string[], RegExp]> = [
    [[], /a network agent needs the control plane's database: pass --db URL/],
    [["--db", base.db], /a network agent needs the control plane's message bus, not "memory"/],
    [
      ["--db", base.db, "--bus", base.bus, "--network-driver", "noop", "--tunnel-ip", "203.0.113.254"],
      /is not an address of this host/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await exec(process.execPath, [stratus, "agent", "network", ...args], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});
