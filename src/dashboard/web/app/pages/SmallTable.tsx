// A small, unpaginated table of a detail page (an instance's interfaces, volumes, floating IPs, action log), with
// loading and empty states and, when `remove` is given, an Actions column.
import type { ReactNode } from "react";
import { Loading } from "../ui.js";

/** The table; `label` names it for screen readers and tests (data-testid). */
export function SmallTable<T>(p: {
  label: string;
  rows: T[] | undefined;
  loading: boolean;
  heads: string[];
  cells(row: T): string[];
  rowKey(row: T): string;
  rowData?(row: T): string;
  remove?(row: T): ReactNode;
  empty: string;
}) {
  if (p.loading) return <Loading what={p.label} />;
  if (!p.rows?.length) return <p>{p.empty}</p>;
  const heads = p.remove ? [...p.heads, "Actions"] : p.heads;
  return (
    <table className="pf-v6-c-table pf-m-compact pf-m-grid-md" aria-label={p.label} data-testid={p.label}>
      <thead className="pf-v6-c-table__thead">
        <tr className="pf-v6-c-table__tr">
          {heads.map((h) => (
            <th key={h} className="pf-v6-c-table__th" scope="col">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="pf-v6-c-table__tbody">
        {p.rows.map((row) => (
          <tr key={p.rowKey(row)} className="pf-v6-c-table__tr" data-row={p.rowData?.(row)}>
            {[...p.cells(row), ...(p.remove ? [p.remove(row)] : [])].map((c, i) => (
              <td key={heads[i]} className="pf-v6-c-table__td" data-label={heads[i]}>
                {c}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
