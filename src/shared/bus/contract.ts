// RPC contracts declared as data: a topic, a version and its methods, each a cast (one-way) or a call (request and
// reply). The argument and result types ride along as phantom types, so `bus.call(compute, "get_console", args)`
// and the server's handlers are both checked by tsc; an optional TypeBox schema also validates the arguments at
// run time (on the client before sending and on the server before the handler runs).
//
//   const compute = defineContract("compute", "1.1", {
//     build_instance: cast<{ instanceId: string }>(),
//     get_console: call<{ instanceId: string }, { url: string }>(),
//     reboot: cast({ args: Type.Object({ instanceId: Type.String() }), since: "1.1" }),
//   });
//
// Versions are "MAJOR.MINOR" as in oslo.messaging. A message carries the version it needs: the method's `since`
// (default MAJOR.0 of the contract) unless the caller asks for another. A server that implements X.Y accepts
// messages of major X and minor <= Y and refuses others with UnsupportedVersion.
import type { Static, TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";

/** What a method declaration may say besides its types. */
export interface SpecOptions {
  /** The contract version that introduced the method (default: MAJOR.0 of the contract). */
  since?: string;
}

/** One method of a contract. `A`/`R` are phantom: they exist only for the type checker. */
export interface MethodSpec<K extends "call" | "cast" = "call" | "cast", A = unknown, R = unknown> {
  readonly kind: K;
  readonly since?: string;
  /** Optional run-time schema for the arguments. */
  readonly args?: TSchema;
  /** Optional schema of the result (documentation; the type is what matters). */
  readonly result?: TSchema;
  /** Never set at run time: carries the argument and result types. */
  readonly _types?: { args: A; result: R };
}

/** A one-way method: the caller does not wait for the handler, only for the bus to have the message. */
export type CastSpec<A = unknown> = MethodSpec<"cast", A, void>;
/** A request/reply method. */
export type CallSpec<A = unknown, R = unknown> = MethodSpec<"call", A, R>;

/** Declare a cast. `cast<Args>()` for a plain TS type, or `cast({ args: TypeBoxSchema })` to also validate. */
export function cast<S extends TSchema>(opts: SpecOptions & { args: S }): CastSpec<Static<S>>;
export function cast<A = unknown>(opts?: SpecOptions): CastSpec<A>;
export function cast(opts: SpecOptions & { args?: TSchema } = {}): CastSpec<unknown> {
  return Object.freeze({ kind: "cast" as const, since: opts.since, args: opts.args });
}

/** Declare a call. `call<Args, Result>()`, or `call({ args: Schema, result: Schema })`. */
export function call<SA extends TSchema, SR extends TSchema = TSchema>(
  opts: SpecOptions & { args: SA; result?: SR },
): CallSpec<Static<SA>, TSchema extends SR ? unknown : Static<SR>>;
export function call<A = unknown, R = unknown>(opts?: SpecOptions): CallSpec<A, R>;
export function call(opts: SpecOptions & { args?: TSchema; result?: TSchema } = {}): CallSpec {
  return Object.freeze({ kind: "call" as const, since: opts.since, args: opts.args, result: opts.result });
}

/** The methods of a contract, by name. */
export type Methods = Record<string, MethodSpec<"call" | "cast", any, any>>;

/** A versioned RPC interface on one topic. */
export interface Contract<M extends Methods = Methods> {
  readonly topic: string;
  /** The newest version this declaration describes ("MAJOR.MINOR"). */
  readonly version: string;
  readonly methods: M;
}

/** Any contract (for generic constraints). */
export type AnyContract = Contract<Methods>;

type MethodsOf<C> = C extends Contract<infer M> ? M : never;

/** Names of a contract's calls. */
export type CallNames<C> = {
  [K in keyof MethodsOf<C> & string]: MethodsOf<C>[K] extends MethodSpec<"call", any, any> ? K : never;
}[keyof MethodsOf<C> & string];

/** Names of a contract's casts. */
export type CastNames<C> = {
  [K in keyof MethodsOf<C> & string]: MethodsOf<C>[K] extends MethodSpec<"cast", any, any> ? K : never;
}[keyof MethodsOf<C> & string];

/** The argument type of method K. */
export type ArgsOf<C, K> = K extends keyof MethodsOf<C>
  ? MethodsOf<C>[K] extends MethodSpec<any, infer A, any>
    ? A
    : never
  : never;

/** The result type of method K (void for casts). */
export type ResultOf<C, K> = K extends keyof MethodsOf<C>
  ? MethodsOf<C>[K] extends MethodSpec<any, any, infer R>
    ? R
    : never
  : never;

/** Where a message goes: every server of the topic (round robin), or one server's own queue. */
export interface Target<C extends AnyContract = AnyContract> {
  readonly contract: C;
  /** The server (host) name; absent = any server of the topic. */
  readonly server?: string;
}

/** A target on one server of a contract's topic (`target(compute, "host1")` → queue compute.host1). */
export function target<C extends AnyContract>(contract: C, server?: string): Target<C> {
  if (server !== undefined) checkName("server", server);
  return { contract, server };
}

/** The contract and server of a target given as a contract alone or as a Target. */
export function resolveTarget<C extends AnyContract>(t: C | Target<C>): Target<C> {
  return "contract" in t ? t : { contract: t };
}

/** The work-queue name of a topic, or of one server of it (oslo.messaging's `topic.server`). */
export function queueName(topic: string, server?: string): string {
  return server === undefined ? topic : `${topic}.${server}`;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** Topic and server names are restricted so that queue names stay unambiguous and printable. */
export function checkName(what: "topic" | "server", name: string): void {
  if (!NAME.test(name) || (what === "topic" && name.includes(".")))
    throw new TypeError(
      `bad ${what} name ${JSON.stringify(name)}: use letters, digits, "_", "-"${what === "server" ? ', "."' : ""} (at most 128)`,
    );
}

/** Parse "MAJOR.MINOR" (a bare "MAJOR" means MAJOR.0). */
export function parseVersion(v: string): [number, number] {
  const m = /^(\d{1,6})(?:\.(\d{1,6}))?$/.exec(v);
  if (!m) throw new TypeError(`bad version ${JSON.stringify(v)}: expected MAJOR.MINOR, e.g. "1.0"`);
  return [Number(m[1]), Number(m[2] ?? 0)];
}

/** Whether a server implementing any of `supported` can handle a message that needs version `wanted`. */
export function versionAccepted(wanted: string, supported: readonly string[]): boolean {
  const [wm, wn] = parseVersion(wanted);
  return supported.some((s) => {
    const [sm, sn] = parseVersion(s);
    return sm === wm && sn >= wn;
  });
}

/** Declare a contract. Throws at declaration time on bad names, versions or `since` values. */
export function defineContract<const M extends Methods>(
  topic: string,
  version: string,
  methods: M,
): Contract<M> {
  checkName("topic", topic);
  const [major, minor] = parseVersion(version);
  for (const [name, spec] of Object.entries(methods)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new TypeError(`bad method name ${JSON.stringify(name)}`);
    if (spec.kind !== "call" && spec.kind !== "cast")
      throw new TypeError(`method ${name}: declare it with call() or cast()`);
    if (spec.since !== undefined) {
      const [sm, sn] = parseVersion(spec.since);
      if (sm !== major || sn > minor)
        throw new TypeError(`method ${name}: since ${spec.since} is not within ${topic} ${version}`);
    }
  }
  return Object.freeze({ topic, version: `${major}.${minor}`, methods });
}

/** The version a message for `method` carries by default: its `since`, else MAJOR.0 of the contract. */
export function defaultVersion(contract: AnyContract, method: string): string {
  const since = contract.methods[method]?.since;
  return since ?? `${parseVersion(contract.version)[0]}.0`;
}

const checkers = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();

/** Validate arguments against a method's schema; returns a readable problem or null (no schema = no check). */
export function argsProblem(spec: MethodSpec, args: unknown): string | null {
  if (!spec.args) return null;
  let checker = checkers.get(spec.args);
  if (!checker) {
    checker = TypeCompiler.Compile(spec.args);
    checkers.set(spec.args, checker);
  }
  if (checker.Check(args)) return null;
  const first = checker.Errors(args).First();
  return first ? `${first.path || "/"}: ${first.message}` : "arguments do not match the schema";
}
