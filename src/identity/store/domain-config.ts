// Domain-specific configuration (Keystone's DomainConfigManager): per-domain values of a whitelisted set of
// [identity] and [ldap] options, stored in the DB. Stratus keeps them for API compatibility; they do not switch
// identity drivers.
import { ApiError } from "../../shared/http/errors.js";
import type { IdentityCore } from "../core.js";
import { json } from "../tables.js";

/** A whole or partial config: {group: {option: value}}. */
export type DomainConfig = Record<string, Record<string, unknown>>;

/** One stored option. */
export interface ConfigOption {
  group: string;
  option: string;
  value: unknown;
}

// Keystone's whitelisted options (stored and shown) and sensitive ones (stored, never shown), by group.
const LDAP_OPTIONS = [
  "url",
  "user",
  "suffix",
  "query_scope",
  "page_size",
  "alias_dereferencing",
  "debug_level",
  "chase_referrals",
  "user_tree_dn",
  "user_filter",
  "user_objectclass",
  "user_id_attribute",
  "user_name_attribute",
  "user_mail_attribute",
  "user_description_attribute",
  "user_pass_attribute",
  "user_enabled_attribute",
  "user_enabled_invert",
  "user_enabled_mask",
  "user_enabled_default",
  "user_attribute_ignore",
  "user_default_project_id_attribute",
  "user_enabled_emulation",
  "user_enabled_emulation_dn",
  "user_enabled_emulation_use_group_config",
  "user_additional_attribute_mapping",
  "group_tree_dn",
  "group_filter",
  "group_objectclass",
  "group_id_attribute",
  "group_name_attribute",
  "group_members_are_ids",
  "group_member_attribute",
  "group_desc_attribute",
  "group_attribute_ignore",
  "group_additional_attribute_mapping",
  "tls_cacertfile",
  "tls_cacertdir",
  "use_tls",
  "tls_req_cert",
  "use_pool",
  "pool_size",
  "pool_retry_max",
  "pool_retry_delay",
  "pool_connection_timeout",
  "pool_connection_lifetime",
  "use_auth_pool",
  "auth_pool_size",
  "auth_pool_connection_lifetime",
];
export const WHITELISTED: ReadonlyMap<string, readonly string[]> = new Map([
  ["identity", ["driver", "list_limit"]],
  ["ldap", LDAP_OPTIONS],
]);
export const SENSITIVE: ReadonlyMap<string, readonly string[]> = new Map([
  ["identity", []],
  ["ldap", ["password"]],
]);

/** The process-wide defaults of the whitelisted options (Keystone's option defaults; Stratus's driver is sql). */
const DEFAULTS = new Map<string, ReadonlyMap<string, unknown>>(
  Object.entries({
    identity: { driver: "sql", list_limit: null },
    ldap: {
      url: "ldap://localhost",
      user: null,
      suffix: "cn=example,cn=com",
      query_scope: "one",
      page_size: 0,
      alias_dereferencing: "default",
      debug_level: null,
      chase_referrals: null,
      user_tree_dn: null,
      user_filter: null,
      user_objectclass: "inetOrgPerson",
      user_id_attribute: "cn",
      user_name_attribute: "sn",
      user_mail_attribute: "mail",
      user_description_attribute: "description",
      user_pass_attribute: "userPassword",
      user_enabled_attribute: "enabled",
      user_enabled_invert: false,
      user_enabled_mask: 0,
      user_enabled_default: "True",
      user_attribute_ignore: ["default_project_id"],
      user_default_project_id_attribute: null,
      user_enabled_emulation: false,
      user_enabled_emulation_dn: null,
      user_enabled_emulation_use_group_config: false,
      user_additional_attribute_mapping: [],
      group_tree_dn: null,
      group_filter: null,
      group_objectclass: "groupOfNames",
      group_id_attribute: "cn",
      group_name_attribute: "ou",
      group_members_are_ids: false,
      group_member_attribute: "member",
      group_desc_attribute: "description",
      group_attribute_ignore: [],
      group_additional_attribute_mapping: [],
      tls_cacertfile: null,
      tls_cacertdir: null,
      use_tls: false,
      tls_req_cert: "demand",
      use_pool: true,
      pool_size: 10,
      pool_retry_max: 3,
      pool_retry_delay: 0.1,
      pool_connection_timeout: -1,
      pool_connection_lifetime: 600,
      use_auth_pool: true,
      auth_pool_size: 100,
      auth_pool_connection_lifetime: 60,
    },
  }).map(([g, opts]) => [g, new Map(Object.entries(opts))]),
);

/** Keystone's InvalidDomainConfig (a 403). */
export const invalidConfig = (reason: string): ApiError =>
  new ApiError(403, `Invalid domain specific configuration: ${reason}.`);

/** Keystone's DomainConfigNotFound (404). */
export const configNotFound = (domainId: string, what: string): ApiError =>
  new ApiError(404, `Could not find ${what} in domain configuration for domain ${domainId}.`);

const whatOf = (group?: string, option?: string): string =>
  option ? `option ${option} in group ${group}` : group ? `group ${group}` : "any options";

const isSensitive = (group: string, option: string): boolean => !!SENSITIVE.get(group)?.includes(option);

/** A group (and option) must be one the API supports. */
export function assertValidGroupAndOption(group?: string, option?: string): void {
  if (!group) return;
  if (!WHITELISTED.has(group) && !SENSITIVE.has(group))
    throw invalidConfig(`Group ${group} is not supported for domain specific configurations`);
  if (option && !WHITELISTED.get(group)?.includes(option) && !SENSITIVE.get(group)?.includes(option))
    throw invalidConfig(
      `Option ${option} in group ${group} is not supported for domain specific configurations`,
    );
}

/** A request config must name at least one group, each a non-empty object of supported options. */
export function assertValidConfig(config: unknown): asserts config is DomainConfig {
  if (!config || typeof config !== "object" || Array.isArray(config) || !Object.keys(config).length)
    throw invalidConfig("No options specified");
  for (const [group, opts] of Object.entries(config)) {
    if (!opts || typeof opts !== "object" || Array.isArray(opts) || !Object.keys(opts).length)
      throw invalidConfig(
        `The value of group ${group} specified in the config should be a dictionary of options`,
      );
    for (const option of Object.keys(opts)) assertValidGroupAndOption(group, option);
  }
}

const toList = (config: DomainConfig): ConfigOption[] =>
  Object.entries(config).flatMap(([group, opts]) =>
    Object.entries(opts).map(([option, value]) => ({ group, option, value })),
  );

/** Fold options into {group: {option: value}}; a single requested option folds to {option: value}. */
export function toConfig(list: ConfigOption[], option?: string): Record<string, unknown> {
  if (option) {
    const hit = list.find((o) => o.option === option);
    return hit ? Object.fromEntries([[hit.option, hit.value]]) : {};
  }
  const groups = new Map<string, [string, unknown][]>();
  for (const o of list) groups.set(o.group, [...(groups.get(o.group) ?? []), [o.option, o.value]]);
  return Object.fromEntries([...groups].map(([g, opts]) => [g, Object.fromEntries(opts)]));
}

/** Stored options of a domain, whitelisted (shown) or sensitive (hidden), optionally of one group/option. */
async function listOptions(
  core: IdentityCore,
  domainId: string,
  f: { group?: string; option?: string; sensitive?: boolean },
): Promise<ConfigOption[]> {
  let q = core.db.selectFrom("identity_domain_config").selectAll().where("domain_id", "=", domainId);
  if (f.sensitive !== undefined) q = q.where("sensitive", "=", f.sensitive ? 1 : 0);
  if (f.group) q = q.where("group_name", "=", f.group);
  if (f.option) q = q.where("option_name", "=", f.option);
  const rows = await q.orderBy("group_name").orderBy("option_name").execute();
  return rows.map((r) => ({
    group: r.group_name,
    option: r.option_name,
    value: json<unknown>(r.value, null),
  }));
}

/** The config with sensitive values included (for update/delete checks; never rendered). */
async function fullConfig(core: IdentityCore, domainId: string, group?: string, option?: string) {
  return toConfig(await listOptions(core, domainId, { group, option }), option);
}

/** Whether a domain has any stored option (sensitive ones included). */
export async function hasConfig(core: IdentityCore, domainId: string): Promise<boolean> {
  return !!(await core.db
    .selectFrom("identity_domain_config")
    .select("domain_id")
    .where("domain_id", "=", domainId)
    .executeTakeFirst());
}

/** The shown (whitelisted) config of a domain, a group or one option; 404 when nothing matches. */
export async function getDomainConfig(
  core: IdentityCore,
  domainId: string,
  group?: string,
  option?: string,
): Promise<Record<string, unknown>> {
  assertValidGroupAndOption(group, option);
  const list = await listOptions(core, domainId, { group, option, sensitive: false });
  if (!list.length) throw configNotFound(domainId, whatOf(group, option));
  return toConfig(list, option);
}

/** Replace a domain's whole config; returns the shown config. */
export async function createDomainConfig(
  core: IdentityCore,
  domainId: string,
  config: unknown,
): Promise<Record<string, unknown>> {
  assertValidConfig(config);
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("identity_domain_config").where("domain_id", "=", domainId).execute();
    for (const o of toList(config))
      await tx
        .insertInto("identity_domain_config")
        .values({
          domain_id: domainId,
          group_name: o.group,
          option_name: o.option,
          value: JSON.stringify(o.value ?? null),
          sensitive: isSensitive(o.group, o.option) ? 1 : 0,
        })
        .execute();
  });
  core.changed();
  return toConfig(await listOptions(core, domainId, { sensitive: false }));
}

/** Merge options into a domain's config (Keystone's update_config); a group/option update must already exist. */
export async function updateDomainConfig(
  core: IdentityCore,
  domainId: string,
  body: unknown,
  group?: string,
  option?: string,
): Promise<Record<string, unknown>> {
  const config = (group && option ? { [group]: body } : body) as DomainConfig;
  assertValidConfig(config);
  assertValidGroupAndOption(group, option);
  if (group) {
    const groups = Object.keys(config);
    if (groups.length !== 1 || (option && Object.keys(config[groups[0]]).length !== 1))
      throw invalidConfig(
        option
          ? `Trying to update option ${option} in group ${group}, so that, and only that, option must be specified  in the config`
          : `Trying to update group ${group}, so that, and only that, group must be specified in the config`,
      );
    if (!Object.hasOwn(config, group))
      throw invalidConfig(
        `request to update group ${group}, but config provided contains group ${groups[0]} instead`,
      );
    if (option && !Object.hasOwn(config[group], option))
      throw invalidConfig(
        `Trying to update option ${option} in group ${group}, but config provided contains option ${Object.keys(config[group])[0]} instead`,
      );
    if (!Object.keys(await fullConfig(core, domainId, group, option)).length)
      throw configNotFound(domainId, whatOf(group, option));
  }
  await core.db.transaction().execute(async (tx) => {
    for (const o of toList(config)) {
      const value = JSON.stringify(o.value ?? null);
      // Look first rather than trust the update's row count: MySQL counts only rows whose value changed.
      const exists = await tx
        .selectFrom("identity_domain_config")
        .select("domain_id")
        .where("domain_id", "=", domainId)
        .where("group_name", "=", o.group)
        .where("option_name", "=", o.option)
        .executeTakeFirst();
      if (exists)
        await tx
          .updateTable("identity_domain_config")
          .set({ value })
          .where("domain_id", "=", domainId)
          .where("group_name", "=", o.group)
          .where("option_name", "=", o.option)
          .execute();
      else
        await tx
          .insertInto("identity_domain_config")
          .values({
            domain_id: domainId,
            group_name: o.group,
            option_name: o.option,
            value,
            sensitive: isSensitive(o.group, o.option) ? 1 : 0,
          })
          .execute();
    }
  });
  core.changed();
  return getDomainConfig(core, domainId);
}

/** Delete a domain's config, one group of it, or one option; a named group/option must exist. */
export async function deleteDomainConfig(
  core: IdentityCore,
  domainId: string,
  group?: string,
  option?: string,
): Promise<void> {
  assertValidGroupAndOption(group, option);
  if (group) {
    const current = (await fullConfig(core, domainId))[group] as Record<string, unknown> | undefined;
    if (!current || !Object.keys(current).length) throw configNotFound(domainId, whatOf(group));
    if (option && (current[option] === undefined || current[option] === null))
      throw configNotFound(domainId, whatOf(group, option));
  }
  let q = core.db.deleteFrom("identity_domain_config").where("domain_id", "=", domainId);
  if (group) q = q.where("group_name", "=", group);
  if (option) q = q.where("option_name", "=", option);
  await q.execute();
  core.changed();
}

/** The default values of the whitelisted options: all, one group's, or one option's. */
export function defaultDomainConfig(group?: string, option?: string): Record<string, unknown> {
  assertValidGroupAndOption(group, option);
  if (group && option && !WHITELISTED.get(group)?.includes(option))
    throw invalidConfig(`Reading the default for option ${option} in group ${group} is not supported`);
  const list: ConfigOption[] = [];
  for (const g of group ? [group] : [...WHITELISTED.keys()])
    for (const o of option ? [option] : (WHITELISTED.get(g) ?? []))
      list.push({ group: g, option: o, value: DEFAULTS.get(g)?.get(o) ?? null });
  return toConfig(list, option);
}
