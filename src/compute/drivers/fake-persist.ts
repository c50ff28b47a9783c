// A fake host whose "hypervisor" outlives its agent process, as a real one does: the FakeStateStore of host H is
// kept in DIR/H.json, loaded when the driver is created and written after every operation that changed it
// (JSON to a temporary file, fsync, rename), so an agent killed with SIGKILL and started again on the same
// directory finds its guests exactly as they were. Writes are synchronous: when an operation's promise settles,
// its effect is on disk, before the agent reports it to anyone.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  FakeDriver,
  createFakeStateStore,
  type FakeDriverOptions,
  type FakeInstanceRecord,
  type FakeStateStore,
} from "./fake.js";

/** The format tag of a fake host state file. */
export const FAKE_STATE_FORMAT = "stratus-fake-host/1";

const HOST_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A state file that cannot be used (unreadable, not JSON, another host's, a format this version does not know). */
export class FakeStateFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`Fake host state file ${file} cannot be used: ${reason}. Move it away to start the host empty.`);
    this.name = "FakeStateFileError";
  }
}

/** What a state file holds. */
interface StateDocument {
  format: typeof FAKE_STATE_FORMAT;
  host: string;
  nextVncPort: number;
  instances: FakeInstanceRecord[];
}

/** The state file of fake host `host` under `dir`. */
export function fakeStateFile(dir: string, host: string): string {
  if (!HOST_RE.test(host))
    throw new RangeError(`fake host name ${JSON.stringify(host)} is not a valid host name`);
  return join(dir, `${host}.json`);
}

/** The JSON text a store is saved as (instances in uuid order, so equal states give equal text). */
export function serializeFakeState(host: string, store: FakeStateStore): string {
  const instances = [...store.instances.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, rec]) => rec);
  const doc: StateDocument = { format: FAKE_STATE_FORMAT, host, nextVncPort: store.nextVncPort, instances };
  return JSON.stringify(doc);
}

/** Load the saved store of `host` from `file`; a fresh store when there is no file. Throws FakeStateFileError. */
export function loadFakeState(file: string, host: string): FakeStateStore {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return createFakeStateStore();
    throw new FakeStateFileError(file, (e as Error).message);
  }
  let doc: Partial<StateDocument>;
  try {
    doc = JSON.parse(text) as Partial<StateDocument>;
  } catch (e) {
    throw new FakeStateFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== "object" || doc.format !== FAKE_STATE_FORMAT)
    throw new FakeStateFileError(file, `it is not in the ${FAKE_STATE_FORMAT} format`);
  if (doc.host !== host)
    throw new FakeStateFileError(file, `it belongs to host ${String(doc.host)}, not ${host}`);
  if (!Number.isInteger(doc.nextVncPort) || !Array.isArray(doc.instances))
    throw new FakeStateFileError(file, "nextVncPort or instances is missing");
  const store = createFakeStateStore();
  store.nextVncPort = doc.nextVncPort as number;
  for (const rec of doc.instances) {
    const uuid = (rec as Partial<FakeInstanceRecord> | null)?.spec?.uuid;
    if (typeof uuid !== "string" || !Number.isInteger(rec.state) || !Array.isArray(rec.console))
      throw new FakeStateFileError(file, "an instance record is malformed");
    store.instances.set(uuid, rec);
  }
  return store;
}

/** Write `text` to `file` atomically: a temporary file beside it, fsynced, renamed over it, the directory fsynced. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    const dfd = openSync(dirname(file), "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Not every platform can fsync a directory; the rename itself is atomic either way.
  }
}

/** How long a lazy driver coalesces changes before writing them. */
const LAZY_SAVE_MS = 200;

// FakeDriver members that never change the store (or are internal helpers of the public methods): not wrapped.
const NOT_WRAPPED = new Set([
  "constructor",
  "getInfo",
  "listInstances",
  "getAvailableResources",
  "getConsoleOutput",
  "getVncConsole",
  "interfacesOf",
  "ready",
  "get",
  "op",
  "act",
  "newRecord",
  "validate",
  "used",
  "checkCapacity",
  "log",
  "boot",
]);

/**
 * A FakeDriver whose store is loaded from and saved to a file. Every other method is wrapped: the store is saved
 * (when its serialized form changed) once the method's synchronous part has run — a spawn has reserved its uuid
 * then — and again when its promise settles, whether it succeeded or not.
 */
export class PersistentFakeDriver extends FakeDriver {
  /** The state file. */
  readonly file: string;
  private readonly hostName: string;
  private saved: string;
  private readonly lazy: boolean;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    dir: string,
    host: string,
    opts: Omit<FakeDriverOptions, "state"> = {},
    /** lazy: coalesce saves into one write per LAZY_SAVE_MS (a crash may lose the last moments). */
    mode: { lazy?: boolean } = {},
  ) {
    const file = fakeStateFile(dir, host);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const prefix = `${basename(file)}.tmp-`;
    for (const name of readdirSync(dir))
      if (name.startsWith(prefix)) rmSync(join(dir, name), { force: true }); // left by a crash mid-write
    const state = loadFakeState(file, host);
    super({ ...opts, state });
    this.file = file;
    this.hostName = host;
    this.lazy = mode.lazy ?? false;
    this.saved = serializeFakeState(host, state);
    if (!existsSync(file)) writeFileAtomic(file, this.saved); // the host exists from now on, even empty
    let proto: object | null = FakeDriver.prototype;
    const names = new Set<string>();
    for (; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null)
      for (const name of Object.getOwnPropertyNames(proto)) {
        const desc = Object.getOwnPropertyDescriptor(proto, name);
        if (typeof desc?.value === "function" && !NOT_WRAPPED.has(name)) names.add(name);
      }
    for (const name of names) this.wrap(name);
  }

  /** Save the store if it changed since the last save: now, or (lazy mode) within LAZY_SAVE_MS. */
  save(): void {
    if (this.lazy) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.flush();
      }, LAZY_SAVE_MS);
      this.timer.unref();
      return;
    }
    this.flush();
  }

  /** Write the store now if it changed (also what a lazy driver's owner calls when it stops). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const text = serializeFakeState(this.hostName, this.store);
    if (text === this.saved) return;
    writeFileAtomic(this.file, text);
    this.saved = text;
  }

  private wrap(name: string): void {
    const self = this as unknown as Record<string, (...args: unknown[]) => unknown>;
    const original = self[name];
    self[name] = (...args: unknown[]) => {
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (e) {
        this.save();
        throw e;
      }
      this.save();
      if (!(result instanceof Promise)) return result;
      return result.then(
        (v: unknown) => {
          this.save();
          return v;
        },
        (e: unknown) => {
          this.save();
          throw e;
        },
      );
    };
  }
}

/**
 * A fake driver for `host` whose guests persist in DIR/<host>.json across agent restarts (and, unless lazy,
 * SIGKILL).
 */
export function persistentFakeDriver(
  dir: string,
  host: string,
  opts: Omit<FakeDriverOptions, "state"> = {},
  mode: { lazy?: boolean } = {},
): PersistentFakeDriver {
  return new PersistentFakeDriver(dir, host, opts, mode);
}
