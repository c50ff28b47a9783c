// Public API of the policy engine.
export { PolicyEnforcer, tokenScope, type PolicyEnforcerOptions } from "./engine.js";
export type { Credentials, RuleDefault, ScopeType, Target } from "./types.js";
export { parseRule, PolicyParseError } from "./parser.js";
export { PolicyFileError } from "./overrides.js";
export { formatCheck, type CheckNode, type CheckSubject, type CheckValue, type TargetRef } from "./ast.js";
