// Changes to a server's system_metadata, key by key. Many writers share that JSON column (resize bookkeeping,
// the guest's password, disk_config, shelve keys); a writer states only the keys it sets or removes and the
// store applies them to the row as it is at write time, so no writer puts back a stale copy of the others' keys.

/** The keys one writer sets and removes in system_metadata; every other key is left as the row has it. */
export interface SysMetaChange {
  set?: Record<string, unknown>;
  remove?: readonly string[];
}

/** `meta` with `change` applied (removals first, then the keys set); `meta` itself is not modified. */
export function applySysMeta(meta: Record<string, unknown>, change: SysMetaChange): Record<string, unknown> {
  const out = { ...meta };
  for (const k of change.remove ?? []) delete out[k];
  return Object.assign(out, change.set ?? {});
}

/** Two changes as one, `b` winning where they touch the same key. */
export function mergeSysMeta(
  a: SysMetaChange | undefined,
  b: SysMetaChange | undefined,
): SysMetaChange | undefined {
  if (!a || !b) return a ?? b;
  const set = { ...a.set, ...b.set };
  const remove = [...(a.remove ?? []).filter((k) => !(b.set && k in b.set)), ...(b.remove ?? [])];
  for (const k of b.remove ?? []) delete set[k];
  return { set, remove };
}
