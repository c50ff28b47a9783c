// Power operations of a qemu instance over QMP: on/off (ACPI with a timeout, then quit), soft and hard reboot,
// pause/unpause (stop/cont), an NMI for crash dumps, suspend/resume (the guest's memory migrated to a file, QEMU
// gone; resume starts a new QEMU that takes the state back with -incoming), and the serial console's ring log.
import { rm } from "node:fs/promises";
import { InvalidInstanceState, InvalidPowerState, OperationFailed } from "../errors.js";
import { PowerState, type RebootType, type SerialConsole } from "../types.js";
import type { QemuCore, LiveInstance } from "./driver-core.js";
import type { InstanceRecord } from "./driver-layout.js";
import { DEFAULT_SERIAL_LOG_BYTES, readSerialLog } from "./serial-log.js";

const { NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED } = PowerState;
const ANY: readonly PowerState[] = [NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Boot a SHUTDOWN or CRASHED instance; RUNNING is left alone. */
export async function powerOn(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  const st = await core.expect(rec, "power on", [RUNNING, SHUTDOWN, CRASHED]);
  if (st === RUNNING) return;
  await core.stop(uuid);
  await core.boot(rec);
}

/** Shut down cleanly within timeoutS, then forcibly; a SHUTDOWN instance is left alone. */
export async function powerOff(core: QemuCore, uuid: string, timeoutS = 0): Promise<void> {
  const rec = await core.record(uuid);
  const st = await core.powerState(rec);
  if (st === SHUTDOWN) return;
  await core.stop(uuid, st === RUNNING ? timeoutS : 0);
  if (rec.suspended) await dropSuspendState(core, rec);
}

/** SOFT: ACPI power-down, wait, boot again (hard when the guest ignores it); HARD: a new QEMU from any state. */
export async function reboot(core: QemuCore, uuid: string, type: RebootType): Promise<void> {
  const rec = await core.record(uuid);
  if (type === "SOFT") {
    if (rec.rescue) throw new InvalidInstanceState(uuid, "soft reboot", "the instance is rescued");
    await core.expect(rec, "soft reboot", [RUNNING]);
    await core.stop(uuid, core.opts.softRebootTimeoutS ?? 60);
  } else {
    await core.expect(rec, "hard reboot", ANY);
    await core.stop(uuid);
    if (rec.suspended) await dropSuspendState(core, rec);
  }
  await core.boot(rec);
}

/** RUNNING → PAUSED. */
export async function pause(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  const l = await core.requireLive(rec, "pause", [RUNNING]);
  await l.proc.qmp.execute("stop");
}

/** PAUSED → RUNNING. */
export async function unpause(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  const l = await core.requireLive(rec, "unpause", [PAUSED]);
  await l.proc.qmp.execute("cont");
}

/** Inject an NMI (Nova's trigger_crash_dump): a Linux guest logs it, or panics and dumps when set up to. */
export async function injectNmi(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  const l = await core.requireLive(rec, "trigger a crash dump of", [RUNNING]);
  await l.proc.qmp.execute("inject-nmi");
}

/** Poll query-migrate until it completes (or fails). */
export async function waitMigration(l: LiveInstance, uuid: string, timeoutMs = 600_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = (await l.proc.qmp.execute("query-migrate")) as { status?: string; "error-desc"?: string };
    if (r.status === "completed") return;
    if (r.status === "failed" || r.status === "cancelled")
      throw new OperationFailed(uuid, "migrate", r["error-desc"] ?? r.status);
    if (performance.now() > deadline) throw new OperationFailed(uuid, "migrate", "timed out");
    await sleep(50);
  }
}

/** A path QEMU's exec: migration may put in a shell word (ours are; anything else is refused). */
function shellPath(p: string): string {
  if (!/^[A-Za-z0-9_./-]+$/.test(p)) throw new OperationFailed("-", "suspend", `unsafe path ${p}`);
  return p;
}

/** RUNNING or PAUSED → SUSPENDED: the guest's state goes to suspend.state and QEMU exits. */
export async function suspend(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  if (rec.rescue) throw new InvalidInstanceState(uuid, "suspend", "the instance is rescued");
  const l = await core.requireLive(rec, "suspend", [RUNNING, PAUSED]);
  const p = core.layout.paths(uuid);
  await l.proc.qmp.execute("stop");
  try {
    await l.proc.qmp.execute("migrate", { uri: `exec:cat > ${shellPath(p.suspendState)}` });
    await waitMigration(l, uuid);
  } catch (err) {
    await l.proc.qmp.execute("cont").catch(() => {});
    await rm(p.suspendState, { force: true });
    throw err;
  }
  rec.suspended = true;
  await core.layout.save(rec);
  await core.stop(uuid);
}

/** SUSPENDED → RUNNING: a new QEMU loads suspend.state, then runs. */
export async function resume(core: QemuCore, uuid: string): Promise<void> {
  const rec = await core.record(uuid);
  await core.expect(rec, "resume", [SUSPENDED]);
  const p = core.layout.paths(uuid);
  const l = await core.boot(rec, { incoming: true });
  try {
    await l.proc.qmp.execute("migrate-incoming", { uri: `exec:cat ${shellPath(p.suspendState)}` });
    await waitMigration(l, uuid);
    await l.proc.qmp.execute("cont");
  } catch (err) {
    await core.stop(uuid);
    throw err;
  }
  await dropSuspendState(core, rec);
}

async function dropSuspendState(core: QemuCore, rec: InstanceRecord): Promise<void> {
  delete rec.suspended;
  await core.layout.save(rec);
  await rm(core.layout.paths(rec.uuid).suspendState, { force: true });
}

/** The serial log so far (the last `maxBytes`). */
export async function consoleOutput(
  core: QemuCore,
  uuid: string,
  maxBytes = DEFAULT_SERIAL_LOG_BYTES,
): Promise<string> {
  await core.record(uuid);
  const l = core.live.get(uuid);
  await l?.serial?.flush();
  return readSerialLog(core.layout.paths(uuid).serialLog, maxBytes);
}

/** The live serial port of a running instance. */
export async function serialConsole(core: QemuCore, uuid: string): Promise<SerialConsole> {
  const rec = await core.record(uuid);
  const l = await core.requireLive(rec, "open the serial console of", [RUNNING, PAUSED]);
  const serial = l.serial;
  if (!serial) throw new InvalidPowerState(uuid, "open the serial console of", NOSTATE, [RUNNING]);
  return { onData: (fn) => serial.onData(fn), write: (d) => serial.write(d) };
}
