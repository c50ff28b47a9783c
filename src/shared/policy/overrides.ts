// Reading the operator's policy override file (YAML or JSON) into parsed rules.
import { readFileSync, statSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { CheckNode } from "./ast.js";
import { formatCheck } from "./ast.js";
import { parseRule, PolicyParseError } from "./parser.js";

/** Thrown when the override file cannot be read or parsed; names the file and, if known, the rule. */
export class PolicyFileError extends Error {
  constructor(
    /** Path of the override file. */
    readonly file: string,
    /** The rule at fault, if the problem is one rule. */
    readonly rule: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`policy file ${file}: ${rule === undefined ? "" : `rule "${rule}": `}${message}`, options);
    this.name = "PolicyFileError";
  }
}

/** One rule from the override file: its check as written (lists rendered as a string) and its tree. */
export interface OverrideRule {
  source: string;
  tree: CheckNode;
}

/** A cheap fingerprint of the file's state (mtime, size, inode), or "missing". */
export function fileSignature(file: string): string {
  const st = statSync(file, { throwIfNoEntry: false });
  return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : "missing";
}

/** Reads and parses the override file; a missing or empty file gives no rules. */
export function readOverrideFile(file: string): Map<string, OverrideRule> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw new PolicyFileError(file, undefined, `cannot read: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PolicyFileError(file, undefined, `not valid YAML or JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const rules = new Map<string, OverrideRule>();
  if (doc === null || doc === undefined) return rules;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new PolicyFileError(file, undefined, "must be a mapping of rule names to check strings");
  }
  for (const [name, value] of Object.entries(doc)) {
    if (typeof value !== "string" && !Array.isArray(value)) {
      throw new PolicyFileError(file, name, "check must be a string (or a list of lists)");
    }
    try {
      const tree = parseRule(name, value);
      rules.set(name, { source: typeof value === "string" ? value : formatCheck(tree), tree });
    } catch (err) {
      const detail = err instanceof PolicyParseError ? err.detail : (err as Error).message;
      throw new PolicyFileError(file, name, detail, { cause: err });
    }
  }
  return rules;
}
