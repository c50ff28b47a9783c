import type { RuleDefault } from "../../shared/policy/index.js";

/** Image policy rules with their defaults (Glance's names, overridable in DATA_DIR/policy.yaml). */
export const imagePolicies: RuleDefault[] = [];
