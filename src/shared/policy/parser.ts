// Parses oslo.policy rule strings (and the legacy list-of-lists form) into check trees.
import type { CheckNode, CheckSubject, CheckValue, TargetRef } from "./ast.js";

/** Thrown when a rule's check string is not valid policy syntax; `rule` names the offending rule. */
export class PolicyParseError extends Error {
  constructor(
    /** Name of the rule whose check failed to parse. */
    readonly rule: string,
    /** What is wrong, without the rule name. */
    readonly detail: string,
  ) {
    super(`policy rule "${rule}": ${detail}`);
    this.name = "PolicyParseError";
  }
}

type Token = { type: "(" | ")" | "word"; text: string; pos: number };

const QUOTES = new Set(["'", '"']);

class Parser {
  private tokens: Token[] = [];
  private i = 0;

  constructor(
    private readonly rule: string,
    private readonly text: string,
  ) {}

  fail(detail: string, pos?: number): never {
    const where = pos === undefined ? "" : ` at column ${pos + 1}`;
    throw new PolicyParseError(this.rule, `${detail}${where} in ${JSON.stringify(this.text)}`);
  }

  /** Splits the text into parentheses and words; quotes and `%(...)` keep their insides in one word. */
  tokenize(): void {
    const s = this.text;
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (/\s/.test(c)) {
        i++;
      } else if (c === "(" || c === ")") {
        this.tokens.push({ type: c, text: c, pos: i });
        i++;
      } else {
        const start = i;
        while (i < s.length && !/[\s()]/.test(s[i])) {
          if (QUOTES.has(s[i])) {
            const end = s.indexOf(s[i], i + 1);
            if (end < 0) this.fail("unterminated quoted string", i);
            i = end + 1;
          } else if (s[i] === "%" && s[i + 1] === "(") {
            const end = s.indexOf(")", i + 2);
            if (end < 0) this.fail("unterminated %(...)s substitution", i);
            i = end + 1;
          } else {
            i++;
          }
        }
        this.tokens.push({ type: "word", text: s.slice(start, i), pos: start });
      }
    }
  }

  parse(): CheckNode {
    this.tokenize();
    if (this.tokens.length === 0) return { kind: "true" };
    const node = this.parseOr();
    const extra = this.tokens[this.i];
    if (extra) {
      if (extra.type === ")") this.fail("unbalanced ')'", extra.pos);
      this.fail(`expected 'and' or 'or' before ${JSON.stringify(extra.text)}`, extra.pos);
    }
    return node;
  }

  private keyword(word: string): boolean {
    const t = this.tokens[this.i];
    if (t?.type === "word" && t.text.toLowerCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  private parseOr(): CheckNode {
    const children = [this.parseAnd()];
    while (this.keyword("or")) children.push(this.parseAnd());
    return combine("or", children);
  }

  private parseAnd(): CheckNode {
    const children = [this.parseNot()];
    while (this.keyword("and")) children.push(this.parseNot());
    return combine("and", children);
  }

  private parseNot(): CheckNode {
    if (this.keyword("not")) return { kind: "not", child: this.parseNot() };
    return this.parseAtom();
  }

  private parseAtom(): CheckNode {
    const t = this.tokens[this.i++];
    if (!t) this.fail("unexpected end of rule");
    if (t.type === ")") this.fail("unexpected ')'", t.pos);
    if (t.type === "(") {
      if (this.tokens[this.i]?.type === ")") this.fail("empty parentheses", t.pos);
      const inner = this.parseOr();
      if (this.tokens[this.i]?.type !== ")") this.fail("missing ')'", t.pos);
      this.i++;
      return inner;
    }
    const lower = t.text.toLowerCase();
    if (lower === "and" || lower === "or" || lower === "not") {
      this.fail(`unexpected '${t.text}'`, t.pos);
    }
    return this.parseCheck(t.text, t.pos);
  }

  /** Parses one check word: `@`, `!`, `role:X`, `rule:X` or `left:right`. */
  parseCheck(word: string, pos: number): CheckNode {
    if (word === "@") return { kind: "true" };
    if (word === "!") return { kind: "false" };
    let colon: number;
    if (QUOTES.has(word[0])) {
      colon = word.indexOf(word[0], 1) + 1;
      if (colon === 0) this.fail("unterminated quoted string", pos);
    } else {
      colon = word.indexOf(":");
    }
    if (colon <= 0 || word[colon] !== ":")
      this.fail(`expected 'kind:match' but found ${JSON.stringify(word)}`, pos);
    const left = word.slice(0, colon);
    const right = word.slice(colon + 1);
    if (right === "") this.fail(`missing match value after '${left}:'`, pos);
    if (left === "rule") {
      if (/['"%]/.test(right)) this.fail(`invalid rule name ${JSON.stringify(right)}`, pos);
      return { kind: "rule", name: right };
    }
    const value = this.parseValue(right, pos + colon + 1);
    if (left === "role") {
      const role: CheckValue =
        value.kind === "literal" ? { kind: "literal", value: String(value.value) } : value;
      if (role.kind === "literal" && role.value === "") this.fail("empty role name", pos);
      return { kind: "role", role };
    }
    return { kind: "generic", subject: this.parseSubject(left, pos), value };
  }

  private parseSubject(left: string, pos: number): CheckSubject {
    if (QUOTES.has(left[0]) || /^(true|false)$/i.test(left)) {
      const v = this.parseValue(left, pos);
      if (v.kind === "literal") return v;
    }
    if (/['"%]/.test(left)) this.fail(`invalid credential key ${JSON.stringify(left)}`, pos);
    return { kind: "credential", key: left };
  }

  private parseValue(raw: string, pos: number): CheckValue {
    const q = raw[0];
    if (QUOTES.has(q)) {
      if (raw.length < 2 || raw.indexOf(q, 1) !== raw.length - 1) {
        this.fail("a quoted value must be one complete quoted string", pos);
      }
      return { kind: "literal", value: raw.slice(1, -1) };
    }
    if (/['"]/.test(raw)) this.fail("quotes must enclose the whole value", pos);
    if (/^true$/i.test(raw)) return { kind: "literal", value: true };
    if (/^false$/i.test(raw)) return { kind: "literal", value: false };
    if (!raw.includes("%(")) return { kind: "literal", value: raw };
    const parts: Array<string | TargetRef> = [];
    let i = 0;
    while (i < raw.length) {
      const open = raw.indexOf("%(", i);
      if (open < 0) {
        parts.push(raw.slice(i));
        break;
      }
      if (open > i) parts.push(raw.slice(i, open));
      const close = raw.indexOf(")", open + 2);
      if (close < 0 || raw[close + 1] !== "s") this.fail("substitution must look like %(key)s", pos + open);
      const key = raw.slice(open + 2, close);
      if (key === "") this.fail("empty substitution key", pos + open);
      parts.push({ key });
      i = close + 2;
    }
    return { kind: "template", parts };
  }
}

/** Builds an and/or node, flattening nested nodes of the same kind; a single child is returned as-is. */
function combine(kind: "and" | "or", children: CheckNode[]): CheckNode {
  if (children.length === 1) return children[0];
  const flat: CheckNode[] = [];
  for (const c of children) {
    if (c.kind === kind) flat.push(...c.children);
    else flat.push(c);
  }
  return { kind, children: flat };
}

/** Parses a legacy list rule: outer list = or, inner lists = and; `[]` is always true. */
function parseListRule(name: string, rule: unknown[]): CheckNode {
  if (rule.length === 0) return { kind: "true" };
  const alternatives: CheckNode[] = [];
  for (const inner of rule) {
    const items = typeof inner === "string" ? [inner] : inner;
    if (!Array.isArray(items)) {
      throw new PolicyParseError(name, "a list rule must contain lists of check strings");
    }
    if (items.length === 0) continue;
    const checks = items.map((item) => {
      if (typeof item !== "string")
        throw new PolicyParseError(name, "a list rule must contain check strings");
      return parseRule(name, item);
    });
    alternatives.push(combine("and", checks));
  }
  if (alternatives.length === 0) return { kind: "false" };
  return combine("or", alternatives);
}

/** Parses one rule (a check string, or the legacy list-of-lists form) into a check tree. */
export function parseRule(name: string, rule: string | unknown[]): CheckNode {
  if (Array.isArray(rule)) return parseListRule(name, rule);
  if (typeof rule !== "string") throw new PolicyParseError(name, "a rule must be a string or a list");
  return new Parser(name, rule).parse();
}
