// Turns check trees into plain closures so enforcing a rule is a few function calls.
import type { CheckNode, CheckValue } from "./ast.js";
import { asText, boolMatches, makeGetter, textMatches } from "./lookup.js";
import type { Credentials, Target } from "./types.js";

/** Per-call state a compiled check reads: the inputs plus a lazily built lower-cased role set. */
export interface EvalContext {
  readonly creds: Credentials;
  readonly target: Target;
  roles: Set<string> | undefined;
}

/** A compiled check. */
export type CheckFn = (ctx: EvalContext) => boolean;

/** Always grants. */
export const ALWAYS: CheckFn = () => true;
/** Always denies. */
export const NEVER: CheckFn = () => false;

/** Resolves `rule:NAME` to that rule's compiled check (NEVER for unknown or cyclic rules). */
export type RuleResolver = (name: string) => CheckFn;

function roleSet(ctx: EvalContext): Set<string> {
  if (!ctx.roles) {
    const roles = Array.isArray(ctx.creds.roles) ? ctx.creds.roles : [];
    ctx.roles = new Set(roles.map((r) => String(r).toLowerCase()));
  }
  return ctx.roles;
}

/** Compiles a value to a function of the target; a literal yields itself, a missing key yields undefined. */
function compileValue(v: CheckValue): (target: Target) => string | boolean | undefined {
  if (v.kind === "literal") {
    const value = v.value;
    return () => value;
  }
  const parts = v.parts.map((p) => (typeof p === "string" ? p : makeGetter(p.key)));
  if (parts.length === 1 && typeof parts[0] !== "string") {
    const get = parts[0];
    return (t) => asText(get(t));
  }
  return (t) => {
    let out = "";
    for (const p of parts) {
      if (typeof p === "string") {
        out += p;
      } else {
        const s = asText(p(t));
        if (s === undefined) return undefined;
        out += s;
      }
    }
    return out;
  };
}

function compileRole(v: CheckValue): CheckFn {
  if (v.kind === "literal") {
    const role = String(v.value).toLowerCase();
    return (ctx) => roleSet(ctx).has(role);
  }
  const value = compileValue(v);
  return (ctx) => {
    const role = value(ctx.target);
    return role !== undefined && roleSet(ctx).has(String(role).toLowerCase());
  };
}

function compileGeneric(node: Extract<CheckNode, { kind: "generic" }>): CheckFn {
  const { subject, value: v } = node;
  if (subject.kind === "literal") {
    const left = asText(subject.value);
    if (v.kind === "literal") return asText(v.value) === left ? ALWAYS : NEVER;
    const value = compileValue(v);
    return (ctx) => value(ctx.target) === left;
  }
  const get = makeGetter(subject.key);
  if (v.kind === "literal") {
    const want = v.value;
    if (typeof want === "boolean") return (ctx) => boolMatches(get(ctx.creds), want);
    return (ctx) => textMatches(get(ctx.creds), want);
  }
  const value = compileValue(v);
  return (ctx) => {
    const want = value(ctx.target);
    return want !== undefined && textMatches(get(ctx.creds), String(want));
  };
}

function compileAnd(fns: CheckFn[]): CheckFn {
  if (fns.includes(NEVER)) return NEVER;
  const live = fns.filter((f) => f !== ALWAYS);
  if (live.length === 0) return ALWAYS;
  if (live.length === 1) return live[0];
  if (live.length === 2) {
    const [a, b] = live;
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (const f of live) if (!f(ctx)) return false;
    return true;
  };
}

function compileOr(fns: CheckFn[]): CheckFn {
  if (fns.includes(ALWAYS)) return ALWAYS;
  const live = fns.filter((f) => f !== NEVER);
  if (live.length === 0) return NEVER;
  if (live.length === 1) return live[0];
  if (live.length === 2) {
    const [a, b] = live;
    return (ctx) => a(ctx) || b(ctx);
  }
  return (ctx) => {
    for (const f of live) if (f(ctx)) return true;
    return false;
  };
}

/** Compiles a check tree into a closure; `resolve` supplies the compiled form of referenced rules. */
export function compileCheck(node: CheckNode, resolve: RuleResolver): CheckFn {
  switch (node.kind) {
    case "true":
      return ALWAYS;
    case "false":
      return NEVER;
    case "role":
      return compileRole(node.role);
    case "rule":
      return resolve(node.name);
    case "generic":
      return compileGeneric(node);
    case "not": {
      const child = compileCheck(node.child, resolve);
      if (child === ALWAYS) return NEVER;
      if (child === NEVER) return ALWAYS;
      return (ctx) => !child(ctx);
    }
    case "and":
      return compileAnd(node.children.map((c) => compileCheck(c, resolve)));
    case "or":
      return compileOr(node.children.map((c) => compileCheck(c, resolve)));
  }
}
