// Tests for the oslo.policy-style policy engine: parser, evaluation, overrides, reload and scope.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, utimesSync, writeFileSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  formatCheck,
  parseRule,
  PolicyEnforcer,
  PolicyFileError,
  PolicyParseError,
  type Credentials,
  type RuleDefault,
  type Target,
} from "../../../src/shared/policy/index.js";

const member: Credentials = {
  user_id: "u1",
  user_domain_id: "d1",
  project_id: "p1",
  project_domain_id: "d1",
  roles: ["Member", "reader"],
  is_admin_project: false,
};
const admin: Credentials = { ...member, user_id: "admin", roles: ["ADMIN"], is_admin_project: true };

function rule(name: string, check: string, extra: Partial<RuleDefault> = {}): RuleDefault {
  return { name, check, description: `test rule ${name}`, ...extra };
}

/** Evaluates one check string (plus optional helper rules) for the given credentials and target. */
function allowed(
  check: string,
  creds: Credentials,
  target: Target = {},
  helpers: RuleDefault[] = [],
): boolean {
  return new PolicyEnforcer([rule("under_test", check), ...helpers]).enforce("under_test", target, creds);
}

describe("parser: syntax forms", () => {
  it("'@' and the empty string always pass; '!' always fails", () => {
    assert.equal(allowed("@", member), true);
    assert.equal(allowed("", member), true);
    assert.equal(allowed("   ", member), true);
    assert.equal(allowed("!", member), false);
    assert.deepEqual(parseRule("x", ""), { kind: "true" });
    assert.deepEqual(parseRule("x", "!"), { kind: "false" });
  });

  it("role: matches case-insensitively", () => {
    assert.equal(allowed("role:member", member), true);
    assert.equal(allowed("role:MEMBER", member), true);
    assert.equal(allowed("role:Admin", admin), true);
    assert.equal(allowed("role:admin", member), false);
    assert.equal(allowed("role:admin", { roles: [] }), false);
    assert.equal(allowed("role:admin", { roles: undefined as unknown as string[] }), false);
  });

  it("role: can take its name from the target", () => {
    assert.equal(allowed("role:%(role.name)s", member, { role: { name: "READER" } }), true);
    assert.equal(allowed("role:%(role.name)s", member, { role: { name: "admin" } }), false);
    assert.equal(allowed("role:%(role.name)s", member, {}), false);
  });

  it("generic checks compare a credential with a bare, quoted or boolean literal", () => {
    assert.equal(allowed("user_id:u1", member), true);
    assert.equal(allowed("user_id:u2", member), false);
    assert.equal(allowed("user_id:'u1'", member), true);
    assert.equal(allowed('user_id:"u1"', member), true);
    assert.equal(
      allowed("name:'has space (and parens)'", { roles: [], name: "has space (and parens)" }),
      true,
    );
    assert.equal(allowed("is_admin_project:True", admin), true);
    assert.equal(allowed("is_admin_project:True", member), false);
    assert.equal(allowed("is_admin_project:False", member), true);
    assert.equal(allowed("is_admin_project:False", { roles: [] }), false, "missing credential is not False");
    assert.equal(
      allowed("is_admin_project:True", { roles: [], is_admin_project: "true" } as unknown as Credentials),
      true,
    );
    assert.equal(
      allowed("is_admin_project:'True'", admin),
      true,
      "quoted True is a string; booleans print as True",
    );
    assert.equal(allowed("missing:x", member), false);
  });

  it("generic checks read dotted credential paths, flat keys first, and match list members", () => {
    const creds: Credentials = { roles: [], token: { user: { id: "nested" } }, "token.user.id": "flat" };
    assert.equal(allowed("token.user.id:flat", creds), true);
    assert.equal(allowed("token.user.id:nested", creds), false);
    assert.equal(allowed("token.user.id:nested", { roles: [], token: { user: { id: "nested" } } }), true);
    assert.equal(allowed("groups:g2", { roles: [], groups: ["g1", "g2"] }), true);
    assert.equal(allowed("groups:g3", { roles: [], groups: ["g1", "g2"] }), false);
    assert.equal(allowed("count:3", { roles: [], count: 3 }), true, "numbers compare as strings");
  });

  it("%(key)s substitutes from the target and compares as strings", () => {
    assert.equal(allowed("project_id:%(project_id)s", member, { project_id: "p1" }), true);
    assert.equal(allowed("project_id:%(project_id)s", member, { project_id: "p2" }), false);
    assert.equal(allowed("project_id:%(project_id)s", member, {}), false, "missing key");
    assert.equal(allowed("project_id:%(project_id)s", member, { project_id: null }), false, "null value");
    assert.equal(allowed("project_id:%(project_id)s", { roles: [] }, { project_id: "p1" }), false);
    assert.equal(allowed("n:%(n)s", { roles: [], n: "7" }, { n: 7 }), true);
    assert.equal(allowed("flag:%(flag)s", { roles: [], flag: true }, { flag: true }), true);
    assert.equal(allowed("user_id:%(owner)s", member, { owner: ["u1"] }), false, "lists are not scalars");
  });

  it("%(a.b)s looks up the flat key first, then the nested path", () => {
    const check = "domain_id:%(target.domain_id)s";
    const creds: Credentials = { roles: [], domain_id: "d1" };
    assert.equal(allowed(check, creds, { "target.domain_id": "d1" }), true);
    assert.equal(allowed(check, creds, { target: { domain_id: "d1" } }), true);
    assert.equal(allowed(check, creds, { "target.domain_id": "d1", target: { domain_id: "zz" } }), true);
    assert.equal(allowed(check, creds, { "target.domain_id": "zz", target: { domain_id: "d1" } }), false);
    assert.equal(allowed(check, creds, { target: { other: "d1" } }), false);
    assert.equal(allowed(check, creds, { target: "d1" }), false);
  });

  it("substitution never reads inherited properties", () => {
    const creds: Credentials = { roles: [], x: "function Object() { [native code] }" };
    assert.equal(allowed("x:%(constructor)s", creds, {}), false);
    assert.equal(allowed("constructor:%(a)s", { roles: [] }, { a: "x" }), false);
  });

  it("substitutions can be embedded in text, and literals can stand on the left", () => {
    assert.equal(allowed("name:%(a)s-%(b)s", { roles: [], name: "x-y" }, { a: "x", b: "y" }), true);
    assert.equal(allowed("name:pre-%(a)s", { roles: [], name: "pre-x" }, { a: "x" }), true);
    assert.equal(allowed("name:%(a)s-%(b)s", { roles: [], name: "x-y" }, { a: "x" }), false);
    assert.equal(allowed("'member':%(role.name)s", member, { role: { name: "member" } }), true);
    assert.equal(allowed("'member':%(role.name)s", member, { role: { name: "admin" } }), false);
    assert.equal(allowed("True:%(enabled)s", member, { enabled: true }), true);
    assert.equal(allowed("'a':a", member), true);
    assert.equal(allowed("'a':b", member), false);
  });

  it("not, and, or", () => {
    assert.equal(allowed("not role:admin", member), true);
    assert.equal(allowed("not role:member", member), false);
    assert.equal(allowed("not not role:member", member), true);
    assert.equal(allowed("role:member and role:reader", member), true);
    assert.equal(allowed("role:member and role:admin", member), false);
    assert.equal(allowed("role:admin or role:reader", member), true);
    assert.equal(allowed("role:admin or role:nobody", member), false);
    assert.equal(allowed("role:a or role:b or role:c or role:member", member), true);
    assert.equal(allowed("role:member and role:reader and user_id:u1 and not role:admin", member), true);
    assert.equal(
      allowed("role:admin AND role:x OR Role:member", member),
      false,
      "role: prefix is case-sensitive",
    );
    assert.equal(
      allowed("role:admin AND role:x OR role:member", member),
      true,
      "keywords are case-insensitive",
    );
    assert.equal(allowed("NOT role:admin", member), true);
  });

  it("precedence is not > and > or, and parentheses override it", () => {
    // "@ or ! and !" is "@ or (! and !)" = true; left-to-right would give false.
    assert.equal(allowed("@ or ! and !", member), true);
    assert.equal(allowed("(@ or !) and !", member), false);
    // "not @ and @" is "(not @) and @" = false; "not (@ and @)" is also false, so use "not ! or ...".
    assert.equal(allowed("not ! and !", member), false);
    assert.equal(allowed("not (! and !)", member), true);
    assert.equal(allowed("not @ or @", member), true);
    assert.equal(allowed("not (@ or @)", member), false);
    assert.equal(allowed("((role:member))", member), true);
    assert.equal(allowed("(role:admin or (role:member and (user_id:u1)))", member), true);
    assert.deepEqual(parseRule("x", "@ or ! and !"), {
      kind: "or",
      children: [{ kind: "true" }, { kind: "and", children: [{ kind: "false" }, { kind: "false" }] }],
    });
  });

  it("parentheses hug words and substitutions without spaces", () => {
    assert.equal(allowed("(project_id:%(project_id)s)and(role:member)", member, { project_id: "p1" }), true);
    assert.equal(allowed("not(role:admin)", member), true);
  });

  it("the legacy list form: outer list = or, inner lists = and", () => {
    const list = [["role:admin"], ["role:member", "user_id:%(owner)s"]];
    const tree = parseRule("x", list);
    assert.deepEqual(tree, parseRule("x", "role:admin or (role:member and user_id:%(owner)s)"));
    assert.deepEqual(parseRule("x", []), { kind: "true" });
    assert.deepEqual(parseRule("x", [[]]), { kind: "false" });
    assert.deepEqual(parseRule("x", ["role:a", "role:b"]), parseRule("x", "role:a or role:b"));
    assert.throws(() => parseRule("x", [[1]]), PolicyParseError);
    assert.throws(() => parseRule("x", [{}]), PolicyParseError);
  });

  it("formatCheck prints a tree that parses back to the same tree", () => {
    const samples = [
      "@",
      "!",
      "role:admin or (role:member and project_id:%(project_id)s)",
      "not (role:a or role:b) and not role:c",
      "not (role:a and role:b)",
      "name:'a b' or name:'True' or name:\"it's\" or flag:False or '':%(x)s",
      "rule:admin_required or user_id:%(target.user.id)s-%(x)s",
    ];
    for (const s of samples) {
      const tree = parseRule("x", s);
      assert.deepEqual(parseRule("x", formatCheck(tree)), tree, s);
    }
  });
});

describe("parser: errors", () => {
  const bad = [
    "(role:admin",
    "role:admin)",
    "()",
    "role:admin and",
    "or role:admin",
    "role:admin or or role:x",
    "not",
    "role:a role:b",
    "admin",
    ":x",
    "role:",
    "rule:",
    "user_id:",
    "name:'unterminated",
    "name:'a'b",
    "name:a'b'",
    "user_id:%(x)",
    "user_id:%(x",
    "user_id:%()s",
    "rule:%(x)s",
  ];
  for (const text of bad) {
    it(`rejects ${JSON.stringify(text)} naming the rule`, () => {
      assert.throws(
        () => parseRule("my_rule", text),
        (err: unknown) => {
          assert.ok(err instanceof PolicyParseError);
          assert.equal(err.rule, "my_rule");
          assert.match(err.message, /my_rule/);
          return true;
        },
      );
    });
  }

  it("a bad default throws from the constructor and from register", () => {
    assert.throws(() => new PolicyEnforcer([rule("bad", "role:a and")]), /bad/);
    const e = new PolicyEnforcer([]);
    assert.throws(() => e.register([rule("worse", "(")]), PolicyParseError);
  });
});

describe("PolicyEnforcer: rules", () => {
  it("rule: references another rule; unknown rule names deny", () => {
    const e = new PolicyEnforcer([
      rule("admin_required", "role:admin"),
      rule("owner", "user_id:%(user_id)s"),
      rule("admin_or_owner", "rule:admin_required or rule:owner"),
      rule("dangling", "rule:no_such_rule"),
      rule("dangling_or_member", "rule:no_such_rule or role:member"),
    ]);
    assert.equal(e.enforce("admin_or_owner", { user_id: "u1" }, member), true);
    assert.equal(e.enforce("admin_or_owner", { user_id: "u9" }, member), false);
    assert.equal(e.enforce("admin_or_owner", { user_id: "u9" }, admin), true);
    assert.equal(e.enforce("dangling", {}, admin), false);
    assert.equal(e.enforce("dangling_or_member", {}, member), true);
    assert.equal(e.enforce("not_registered", {}, admin), false);
  });

  it("rules referring to themselves are found at load, deny, and do not hang", () => {
    const warnings: string[] = [];
    const e = new PolicyEnforcer(
      [
        rule("self", "rule:self or role:member"),
        rule("ping", "rule:pong or role:member"),
        rule("pong", "rule:ping"),
        rule("a", "rule:b"),
        rule("b", "rule:c"),
        rule("c", "rule:a and @"),
        rule("uses_loop", "rule:ping or role:reader"),
        rule("fine", "rule:leaf"),
        rule("leaf", "role:member"),
      ],
      { onWarning: (m) => warnings.push(m) },
    );
    for (const name of ["self", "ping", "pong", "a", "b", "c"])
      assert.equal(e.enforce(name, {}, member), false);
    assert.equal(e.enforce("uses_loop", {}, member), true, "the other branch still counts");
    assert.equal(e.enforce("fine", {}, member), true);
    assert.equal(warnings.length, 3);
    assert.match(warnings.join("\n"), /"self"/);
    assert.match(warnings.join("\n"), /"ping", "pong"|"pong", "ping"/);
    assert.doesNotMatch(warnings.join("\n"), /uses_loop|fine|leaf/);
  });

  it("long reference chains compile without recursion trouble", () => {
    const defaults = [rule("r0", "role:member")];
    for (let i = 1; i <= 3000; i++) defaults.push(rule(`r${i}`, `rule:r${i - 1}`));
    defaults.push(rule("loop0", "rule:loop2999"));
    for (let i = 1; i < 3000; i++) defaults.push(rule(`loop${i}`, `rule:loop${i - 1}`));
    const e = new PolicyEnforcer(defaults);
    assert.equal(e.enforce("r3000", {}, member), true);
    assert.equal(e.enforce("loop5", {}, member), false);
  });

  it("register adds rules from other services; duplicate names throw", () => {
    const e = new PolicyEnforcer([rule("identity:get_user", "role:admin")]);
    e.register([rule("compute:get", "role:member"), rule("compute:uses_identity", "rule:identity:get_user")]);
    assert.equal(e.enforce("compute:get", {}, member), true);
    assert.equal(e.enforce("compute:uses_identity", {}, admin), true);
    assert.throws(() => e.register([rule("compute:get", "@")]), /compute:get/);
    assert.throws(() => e.register([rule("dup", "@"), rule("dup", "!")]), /dup/);
    assert.equal(e.enforce("dup", {}, admin), false, "a failed register adds nothing");
    assert.throws(() => new PolicyEnforcer([rule("x", "@"), rule("x", "@")]), /"x"/);
  });

  it("explain gives the effective check string; listRules gives the registered defaults", () => {
    const defaults = [
      rule("a", "role:admin", { scopeTypes: ["system"], operations: [{ method: "GET", path: "/v3/users" }] }),
      rule("b", "rule:a or user_id:%(user_id)s"),
    ];
    const e = new PolicyEnforcer(defaults);
    assert.equal(e.explain("a"), "role:admin");
    assert.equal(e.explain("b"), "rule:a or user_id:%(user_id)s");
    assert.throws(() => e.explain("nope"), /nope/);
    const listed = e.listRules();
    assert.deepEqual(listed, defaults);
    listed[0].check = "@";
    assert.equal(e.explain("a"), "role:admin", "listRules returns copies");
  });

  it("enforce evaluates the same compiled rule for many requests", () => {
    const e = new PolicyEnforcer([rule("r", "role:admin or (role:member and project_id:%(project_id)s)")]);
    let granted = 0;
    for (let i = 0; i < 10000; i++) {
      if (e.enforce("r", { project_id: i % 2 ? "p1" : "p2" }, member)) granted++;
    }
    assert.equal(granted, 5000);
  });
});

describe("PolicyEnforcer: scope enforcement", () => {
  const defaults = [
    rule("system_only", "role:admin", { scopeTypes: ["system"] }),
    rule("domain_or_project", "role:admin", { scopeTypes: ["domain", "project"] }),
    rule("any_scope", "role:admin"),
    rule("empty_scopes", "role:admin", { scopeTypes: [] }),
  ];
  const system: Credentials = { roles: ["admin"], system_scope: "all" };
  const domain: Credentials = { roles: ["admin"], domain_id: "d1" };
  const project: Credentials = { roles: ["admin"], project_id: "p1" };

  it("is off by default", () => {
    const e = new PolicyEnforcer(defaults);
    for (const c of [system, domain, project]) assert.equal(e.enforce("system_only", {}, c), true);
  });

  it("denies tokens whose scope is not in scopeTypes when on", () => {
    const e = new PolicyEnforcer(defaults, { enforceScope: true });
    assert.equal(e.enforce("system_only", {}, system), true);
    assert.equal(e.enforce("system_only", {}, domain), false);
    assert.equal(e.enforce("system_only", {}, project), false);
    assert.equal(e.enforce("domain_or_project", {}, system), false);
    assert.equal(e.enforce("domain_or_project", {}, domain), true);
    assert.equal(e.enforce("domain_or_project", {}, project), true);
    assert.equal(
      e.enforce("domain_or_project", {}, { roles: ["admin"] }),
      true,
      "unscoped counts as project",
    );
    assert.equal(e.enforce("system_only", {}, { ...domain, system_scope: "all" }), true, "system wins");
    for (const c of [system, domain, project]) {
      assert.equal(e.enforce("any_scope", {}, c), true);
      assert.equal(e.enforce("empty_scopes", {}, c), true);
    }
    assert.equal(e.enforce("system_only", {}, { roles: ["member"], system_scope: "all" }), false);
  });
});

describe("PolicyEnforcer: override file", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "stratus-policy-"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const defaults = () => [
    rule("admin_required", "role:admin", { scopeTypes: ["project"] }),
    rule("get_thing", "rule:admin_required"),
    rule("delete_thing", "rule:admin_required"),
  ];

  function write(name: string, text: string, mtimeSec?: number): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    if (mtimeSec !== undefined) utimesSync(file, mtimeSec, mtimeSec);
    return file;
  }

  it("a missing file is fine", () => {
    const e = new PolicyEnforcer(defaults(), { overrideFile: join(dir, "absent.yaml") });
    assert.equal(e.enforce("get_thing", {}, admin), true);
    e.reloadIfChanged();
  });

  it("an empty file overrides nothing", () => {
    const e = new PolicyEnforcer(defaults(), { overrideFile: write("empty.yaml", "") });
    assert.equal(e.explain("get_thing"), "rule:admin_required");
  });

  it("YAML overrides defaults and adds rules; defaults keep their scope types", () => {
    const file = write(
      "policy.yaml",
      [
        '"get_thing": "rule:admin_required or role:reader"',
        '"custom:rule": "user_id:%(user_id)s"',
        '"uses_custom": "rule:custom:rule"',
        '"admin_required": "role:superuser"',
        "",
      ].join("\n"),
    );
    const e = new PolicyEnforcer(defaults(), { overrideFile: file, enforceScope: true });
    assert.equal(e.explain("get_thing"), "rule:admin_required or role:reader");
    assert.equal(e.enforce("get_thing", {}, member), true);
    assert.equal(e.enforce("delete_thing", {}, admin), false, "admin_required was overridden");
    assert.equal(e.enforce("delete_thing", {}, { roles: ["superuser"] }), true);
    assert.equal(e.enforce("uses_custom", { user_id: "u1" }, member), true);
    assert.equal(e.enforce("admin_required", {}, { roles: ["superuser"], system_scope: "all" }), false);
    assert.equal(e.listRules().length, 3, "override-only rules are not defaults");
  });

  it("JSON works too, including the legacy list form", () => {
    const file = write(
      "policy.json",
      JSON.stringify({ get_thing: [["role:reader", "user_id:u1"], ["role:admin"]], delete_thing: "!" }),
    );
    const e = new PolicyEnforcer(defaults(), { overrideFile: file });
    assert.equal(e.enforce("get_thing", {}, member), true);
    assert.equal(e.enforce("get_thing", {}, { roles: ["reader"], user_id: "u2" }), false);
    assert.equal(e.enforce("delete_thing", {}, admin), false);
    assert.equal(e.explain("get_thing"), "role:reader and user_id:u1 or role:admin");
  });

  it("an override can introduce a loop, which is reported and denies", () => {
    const warnings: string[] = [];
    const file = write("loop.yaml", "admin_required: rule:get_thing\n");
    const e = new PolicyEnforcer(defaults(), { overrideFile: file, onWarning: (m) => warnings.push(m) });
    assert.equal(e.enforce("get_thing", {}, admin), false);
    assert.equal(warnings.length, 1);
  });

  it("an override may name a rule registered later", () => {
    const file = write("later.yaml", "late:rule: role:reader\n");
    const e = new PolicyEnforcer(defaults(), { overrideFile: file });
    assert.equal(e.enforce("late:rule", {}, member), true);
    e.register([rule("late:rule", "role:admin")]);
    assert.equal(e.enforce("late:rule", {}, member), true, "the file still wins");
    assert.equal(e.listRules().at(-1)?.check, "role:admin");
  });

  const badFiles: Array<[string, string, RegExp | null]> = [
    ["syntax.yaml", '"get_thing": "role:admin or"\n', /get_thing/],
    ["yaml.yaml", "get_thing: [unclosed\n", null],
    ["json.json", '{"get_thing": "role:admin",}x', null],
    ["list.yaml", "- role:admin\n", null],
    ["scalar.yaml", "just text\n", null],
    ["number.yaml", "get_thing: 5\n", /get_thing/],
    ["null.yaml", "get_thing:\n", /get_thing/],
    ["duplicate.yaml", "a: '@'\na: '!'\n", null],
  ];
  for (const [name, text, ruleName] of badFiles) {
    it(`rejects ${name}, naming the file${ruleName ? " and rule" : ""}`, () => {
      const file = write(name, text);
      assert.throws(
        () => new PolicyEnforcer(defaults(), { overrideFile: file }),
        (err: unknown) => {
          assert.ok(err instanceof PolicyFileError);
          assert.equal(err.file, file);
          assert.ok(err.message.includes(file), err.message);
          if (ruleName) assert.match(err.message, ruleName);
          return true;
        },
      );
    });
  }

  it("reloadIfChanged picks up edits, stats at most once a second, and keeps the last good rules", () => {
    let clock = 1_000_000;
    const file = write("reload.yaml", "get_thing: role:admin\n", 1000);
    const warnings: string[] = [];
    const e = new PolicyEnforcer(defaults(), {
      overrideFile: file,
      now: () => clock,
      onWarning: (m) => warnings.push(m),
    });
    assert.equal(e.enforce("get_thing", {}, member), false);

    write("reload.yaml", "get_thing: role:member\n", 2000);
    e.reloadIfChanged();
    assert.equal(e.enforce("get_thing", {}, member), false, "no stat within a second of loading");
    clock += 1000;
    e.reloadIfChanged();
    assert.equal(e.enforce("get_thing", {}, member), true, "reloaded after a second");
    assert.equal(e.explain("get_thing"), "role:member");

    write("reload.yaml", "get_thing: role:reader\n", 3000);
    clock += 500;
    e.reloadIfChanged();
    assert.equal(e.explain("get_thing"), "role:member", "rate-limited");
    clock += 600;
    e.reloadIfChanged();
    assert.equal(e.explain("get_thing"), "role:reader");

    clock += 1000;
    e.reloadIfChanged();
    assert.equal(e.explain("get_thing"), "role:reader", "unchanged file is not re-read");

    write("reload.yaml", "get_thing: role:reader and\n", 4000);
    clock += 1000;
    assert.throws(
      () => e.reloadIfChanged(),
      (err: unknown) => err instanceof PolicyFileError,
    );
    assert.equal(e.explain("get_thing"), "role:reader", "last good rules stay");
    assert.equal(e.enforce("get_thing", {}, member), true);
    clock += 1000;
    e.reloadIfChanged();
    assert.equal(e.explain("get_thing"), "role:reader", "a bad file is reported once");

    write("reload.yaml", "get_thing: '@'\n", 5000);
    clock += 1000;
    e.reloadIfChanged();
    assert.equal(e.enforce("get_thing", {}, { roles: [] }), true);

    unlinkSync(file);
    clock += 1000;
    e.reloadIfChanged();
    assert.equal(e.explain("get_thing"), "rule:admin_required", "a removed file restores the defaults");
    assert.equal(warnings.length, 0);
  });

  it("reloadIfChanged notices a file that appears later", () => {
    let clock = 0;
    const file = join(dir, "appears.yaml");
    const e = new PolicyEnforcer(defaults(), { overrideFile: file, now: () => clock });
    write("appears.yaml", "delete_thing: '@'\n");
    clock += 1000;
    e.reloadIfChanged();
    assert.equal(e.enforce("delete_thing", {}, { roles: [] }), true);
  });

  it("reload() re-reads at once", () => {
    const file = write("force.yaml", "delete_thing: '!'\n", 1000);
    const e = new PolicyEnforcer(defaults(), { overrideFile: file, now: () => 0 });
    write("force.yaml", "delete_thing: '@'\n", 2000);
    e.reload();
    assert.equal(e.enforce("delete_thing", {}, { roles: [] }), true);
  });
});
