// The check tree a policy rule string parses into, and how to print it back as a rule string.

/** One `%(key)s` substitution inside a value: `key` is looked up in the target dict. */
export interface TargetRef {
  key: string;
}

/** The right-hand side of a check: a fixed value, or text assembled from target substitutions. */
export type CheckValue =
  { kind: "literal"; value: string | boolean } | { kind: "template"; parts: Array<string | TargetRef> };

/** The left-hand side of a generic check: a credential key (dotted path allowed) or a literal. */
export type CheckSubject = { kind: "credential"; key: string } | { kind: "literal"; value: string | boolean };

/** A node of a parsed policy rule. */
export type CheckNode =
  | { kind: "true" }
  | { kind: "false" }
  | { kind: "role"; role: CheckValue }
  | { kind: "rule"; name: string }
  | { kind: "generic"; subject: CheckSubject; value: CheckValue }
  | { kind: "not"; child: CheckNode }
  | { kind: "and"; children: CheckNode[] }
  | { kind: "or"; children: CheckNode[] };

/** Names of every rule a check tree refers to with `rule:NAME`. */
export function ruleReferences(node: CheckNode, into: Set<string> = new Set()): Set<string> {
  switch (node.kind) {
    case "rule":
      into.add(node.name);
      break;
    case "not":
      ruleReferences(node.child, into);
      break;
    case "and":
    case "or":
      for (const c of node.children) ruleReferences(c, into);
      break;
    default:
      break;
  }
  return into;
}

const NEEDS_QUOTES = /[\s()'":%]/;

function formatLiteral(v: string | boolean): string {
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === "" || NEEDS_QUOTES.test(v) || /^(true|false)$/i.test(v) || v === "@" || v === "!") {
    return v.includes("'") ? `"${v}"` : `'${v}'`;
  }
  return v;
}

function formatValue(v: CheckValue): string {
  if (v.kind === "literal") return formatLiteral(v.value);
  return v.parts.map((p) => (typeof p === "string" ? p : `%(${p.key})s`)).join("");
}

function formatChild(node: CheckNode, parent: "and" | "not"): string {
  const text = formatCheck(node);
  const wrap = node.kind === "or" || (parent === "not" && node.kind === "and");
  return wrap ? `(${text})` : text;
}

/** Renders a check tree back into an equivalent rule string. */
export function formatCheck(node: CheckNode): string {
  switch (node.kind) {
    case "true":
      return "@";
    case "false":
      return "!";
    case "role":
      return `role:${formatValue(node.role)}`;
    case "rule":
      return `rule:${node.name}`;
    case "generic": {
      const s = node.subject;
      const left = s.kind === "credential" ? s.key : formatLiteral(s.value);
      return `${left}:${formatValue(node.value)}`;
    }
    case "not":
      return `not ${formatChild(node.child, "not")}`;
    case "and":
      return node.children.map((c) => formatChild(c, "and")).join(" and ");
    case "or":
      return node.children.map((c) => formatCheck(c)).join(" or ");
  }
}
