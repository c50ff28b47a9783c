// QEMU run states map to Nova power states as Nova's libvirt driver maps domain states.
import assert from "node:assert/strict";
import { test } from "node:test";
import { powerStateFromRunState } from "../../../../src/compute/drivers/qemu/status.js";
import { PowerState } from "../../../../src/compute/drivers/types.js";

test("query-status run states as power states", () => {
  const cases: Array<[string, PowerState]> = [
    ["running", PowerState.RUNNING],
    ["paused", PowerState.PAUSED],
    ["prelaunch", PowerState.PAUSED],
    ["inmigrate", PowerState.PAUSED],
    ["postmigrate", PowerState.PAUSED],
    ["io-error", PowerState.PAUSED],
    ["shutdown", PowerState.SHUTDOWN],
    ["suspended", PowerState.SUSPENDED],
    ["guest-panicked", PowerState.CRASHED],
    ["internal-error", PowerState.CRASHED],
    ["something-new", PowerState.NOSTATE],
  ];
  for (const [status, state] of cases) assert.equal(powerStateFromRunState(status), state, status);
});
