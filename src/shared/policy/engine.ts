// The policy enforcer: rule defaults from code, merged with an operator override file, compiled once.
import type { CheckNode } from "./ast.js";
import { compileCheck, NEVER, type CheckFn } from "./compile.js";
import { findRuleCycles } from "./cycles.js";
import { fileSignature, readOverrideFile, type OverrideRule } from "./overrides.js";
import { parseRule } from "./parser.js";
import type { Credentials, RuleDefault, ScopeType, Target } from "./types.js";

export type { Credentials, RuleDefault, ScopeType, Target } from "./types.js";

/** Options for a PolicyEnforcer. */
export interface PolicyEnforcerOptions {
  /** YAML or JSON file mapping rule names to check strings; overrides defaults and may add rules. */
  overrideFile?: string;
  /** Deny tokens whose scope is not in a rule's scopeTypes (default false). */
  enforceScope?: boolean;
  /** Told about problems that do not stop loading, such as rules that refer to themselves in a loop. */
  onWarning?: (message: string) => void;
  /** Clock in milliseconds, for reloadIfChanged's rate limit (default Date.now). */
  now?: () => number;
}

interface CompiledRule {
  fn: CheckFn;
  scopes: ReadonlySet<ScopeType> | undefined;
  source: string;
}

/** How often reloadIfChanged may stat the override file. */
const RELOAD_INTERVAL_MS = 1000;

/** The scope a token was issued for. */
export function tokenScope(creds: Credentials): ScopeType {
  if (creds.system_scope) return "system";
  if (creds.domain_id) return "domain";
  return "project";
}

/** Decides whether credentials may perform a named action on a target, oslo.policy style. */
export class PolicyEnforcer {
  private readonly defaults = new Map<string, { rule: RuleDefault; tree: CheckNode }>();
  private overrides = new Map<string, OverrideRule>();
  private rules = new Map<string, CompiledRule>();
  private readonly enforceScope: boolean;
  private readonly now: () => number;
  private fileSig = "missing";
  private lastStat = 0;

  constructor(
    defaults: RuleDefault[],
    private readonly opts: PolicyEnforcerOptions = {},
  ) {
    this.enforceScope = opts.enforceScope ?? false;
    this.now = opts.now ?? Date.now;
    this.addDefaults(defaults);
    this.reload();
  }

  /** Adds more rule defaults (another service's); a name that is already registered throws. */
  register(defaults: RuleDefault[]): void {
    this.addDefaults(defaults);
    this.rules = this.compileAll(this.overrides);
  }

  /** Whether `creds` pass rule `rule` for `target`; an unknown rule is denied. */
  enforce(rule: string, target: Target, creds: Credentials): boolean {
    const compiled = this.rules.get(rule);
    if (!compiled) return false;
    if (this.enforceScope && compiled.scopes && !compiled.scopes.has(tokenScope(creds))) return false;
    return compiled.fn({ creds, target, roles: undefined });
  }

  /** The effective check string of a rule (the override if there is one); throws for an unknown rule. */
  explain(rule: string): string {
    const compiled = this.rules.get(rule);
    if (!compiled) throw new Error(`unknown policy rule "${rule}"`);
    return compiled.source;
  }

  /** Re-reads the override file if it changed; stats it at most once a second. Throws if the new file is bad. */
  reloadIfChanged(): void {
    if (this.opts.overrideFile === undefined) return;
    const now = this.now();
    if (now - this.lastStat < RELOAD_INTERVAL_MS) return;
    this.lastStat = now;
    if (fileSignature(this.opts.overrideFile) !== this.fileSig) this.reload();
  }

  /** Re-reads the override file now; if it is invalid, the old rules stay and the error is thrown (once). */
  reload(): void {
    const file = this.opts.overrideFile;
    this.lastStat = this.now();
    if (file === undefined) {
      this.rules = this.compileAll(this.overrides);
      return;
    }
    this.fileSig = fileSignature(file);
    const overrides = readOverrideFile(file);
    this.rules = this.compileAll(overrides);
    this.overrides = overrides;
  }

  /** The rule defaults registered in code, in registration order. */
  listRules(): RuleDefault[] {
    return [...this.defaults.values()].map(({ rule }) => ({ ...rule }));
  }

  private addDefaults(defaults: RuleDefault[]): void {
    const parsed = new Map<string, { rule: RuleDefault; tree: CheckNode }>();
    for (const rule of defaults) {
      if (this.defaults.has(rule.name) || parsed.has(rule.name)) {
        throw new Error(`policy rule "${rule.name}" is already registered`);
      }
      parsed.set(rule.name, { rule: { ...rule }, tree: parseRule(rule.name, rule.check) });
    }
    for (const [name, entry] of parsed) this.defaults.set(name, entry);
  }

  /** Compiles defaults merged with overrides; rules in a reference loop are disabled (always deny). */
  private compileAll(overrides: ReadonlyMap<string, OverrideRule>): Map<string, CompiledRule> {
    const trees = new Map<string, CheckNode>();
    const sources = new Map<string, string>();
    for (const [name, { rule, tree }] of this.defaults) {
      trees.set(name, tree);
      sources.set(name, rule.check);
    }
    for (const [name, { source, tree }] of overrides) {
      trees.set(name, tree);
      sources.set(name, source);
    }

    const fns = new Map<string, CheckFn>();
    for (const group of findRuleCycles(trees)) {
      for (const name of group) fns.set(name, NEVER);
      this.opts.onWarning?.(
        `policy rules ${group.map((n) => `"${n}"`).join(", ")} refer to themselves in a loop; they will always deny`,
      );
    }
    // References are compiled first and inlined; the graph is acyclic once loops are disabled.
    const resolve = (name: string): CheckFn => {
      let fn = fns.get(name);
      if (fn) return fn;
      const tree = trees.get(name);
      if (!tree) return NEVER;
      fn = compileCheck(tree, resolve);
      fns.set(name, fn);
      return fn;
    };

    const rules = new Map<string, CompiledRule>();
    for (const [name, source] of sources) {
      const scopeTypes = this.defaults.get(name)?.rule.scopeTypes;
      const scopes = scopeTypes && scopeTypes.length > 0 ? new Set(scopeTypes) : undefined;
      rules.set(name, { fn: resolve(name), scopes, source });
    }
    return rules;
  }
}
