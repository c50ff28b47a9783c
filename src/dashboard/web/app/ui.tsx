// Shared building blocks of the pages: titles, loading/empty/error states, confirmation, and a filterable,
// paginated resource table (PatternFly's table styles on a plain <table>).
import "@patternfly/react-styles/css/components/Table/table.css";
import "@patternfly/react-styles/css/components/Table/table-grid.css";
import { useDeferredValue, useMemo, useState, type ReactNode } from "react";
import {
  Alert,
  Button,
  EmptyState,
  EmptyStateBody,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  PageSection,
  Pagination,
  SearchInput,
  Spinner,
  Title,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
} from "./pf.js";

/** A page's title row with optional actions on the right. */
export function PageTitle({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <PageSection>
      <div
        style={{
          display: "flex",
          gap: "1rem",
          alignItems: "center",
          flexWrap: "wrap",
          justifyContent: "space-between",
        }}
      >
        <Title headingLevel="h1">{title}</Title>
        <div style={{ display: "flex", gap: ".5rem", flexWrap: "wrap" }}>{children}</div>
      </div>
    </PageSection>
  );
}

/** The API's message for a failed call. */
export function ErrorAlert({ error, title = "The request failed" }: { error: unknown; title?: string }) {
  if (!error) return null;
  const msg = error instanceof Error ? error.message : String(error);
  return (
    <Alert variant="danger" isInline title={title} role="alert">
      {msg}
    </Alert>
  );
}

/** A centred spinner while data loads. */
export function Loading({ what }: { what: string }) {
  return (
    <div style={{ padding: "2rem", textAlign: "center" }}>
      <Spinner size="lg" aria-label={`Loading ${what}`} />
    </div>
  );
}

/** A confirmation dialog for destructive actions. */
export function Confirm(props: {
  open: boolean;
  title: string;
  body: ReactNode;
  action: string;
  onConfirm(): void;
  onClose(): void;
  busy?: boolean;
}) {
  return (
    <Modal variant="small" isOpen={props.open} onClose={props.onClose} aria-labelledby="confirm-title">
      <ModalHeader title={props.title} labelId="confirm-title" titleIconVariant="warning" />
      <ModalBody>{props.body}</ModalBody>
      <ModalFooter>
        <Button variant="danger" onClick={props.onConfirm} isLoading={props.busy} isDisabled={props.busy}>
          {props.action}
        </Button>
        <Button variant="link" onClick={props.onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** One column of a ResourceTable. */
export interface Column<T> {
  title: string;
  cell(row: T): ReactNode;
}

/** A table of resources with a text filter, pagination, an empty state and per-row actions. */
export function ResourceTable<T>(props: {
  label: string;
  rows: T[] | undefined;
  loading: boolean;
  error?: unknown;
  columns: Column<T>[];
  rowKey(row: T): string;
  filterText(row: T): string;
  actions?(row: T): ReactNode;
  empty: ReactNode;
  toolbar?: ReactNode;
  /** Paged by the server: its filter (sent as a name prefix) and its pager replace the local ones. */
  server?: { filter: string; onFilter(v: string): void; pager: ReactNode };
}) {
  const [local, setLocal] = useState("");
  const filter = props.server ? props.server.filter : local;
  const setFilter = props.server ? props.server.onFilter : setLocal;
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(20);
  const deferred = useDeferredValue(filter);
  const filtered = useMemo(() => {
    const f = props.server ? "" : deferred.trim().toLowerCase();
    const rows = props.rows ?? [];
    return f ? rows.filter((r) => props.filterText(r).toLowerCase().includes(f)) : rows;
    // props.filterText is a stable projection of the row per page.
  }, [props.rows, deferred, props.server]);
  const pages = Math.max(1, Math.ceil(filtered.length / perPage));
  const current = Math.min(page, pages);
  // Some rows exist that the filter hides (a server-side filter hides them before they arrive).
  const some = !!props.rows?.length || !!(props.server && filter);
  const shown = props.server ? filtered : filtered.slice((current - 1) * perPage, current * perPage);
  return (
    <PageSection>
      <Toolbar>
        <ToolbarContent>
          <ToolbarItem>
            <SearchInput
              aria-label={`Filter ${props.label}`}
              placeholder={props.server ? "Names starting with..." : "Filter by name, status, address..."}
              value={filter}
              onChange={(_e, v) => {
                setFilter(v);
                setPage(1);
              }}
              onClear={() => setFilter("")}
            />
          </ToolbarItem>
          {props.toolbar}
          <ToolbarItem variant="pagination" align={{ default: "alignEnd" }}>
            {props.server?.pager ?? (
              <Pagination
                itemCount={filtered.length}
                perPage={perPage}
                page={current}
                onSetPage={(_e, p) => setPage(p)}
                onPerPageSelect={(_e, n) => {
                  setPerPage(n);
                  setPage(1);
                }}
                isCompact
                titles={{ paginationAriaLabel: `${props.label} pagination` }}
              />
            )}
          </ToolbarItem>
        </ToolbarContent>
      </Toolbar>
      <ErrorAlert error={props.error} title={`Could not load ${props.label}`} />
      {props.loading && !props.rows ? (
        <Loading what={props.label} />
      ) : filtered.length === 0 ? (
        <EmptyState titleText={some ? "No match" : `No ${props.label}`} headingLevel="h2">
          <EmptyStateBody>{some ? "Nothing matches the filter." : props.empty}</EmptyStateBody>
        </EmptyState>
      ) : (
        <table
          className="pf-v6-c-table pf-m-grid-md pf-m-compact"
          aria-label={props.label}
          data-testid={`${props.label}-table`}
        >
          <thead className="pf-v6-c-table__thead pf-m-wrap">
            <tr className="pf-v6-c-table__tr">
              {props.columns.map((c) => (
                <th key={c.title} className="pf-v6-c-table__th" scope="col">
                  {c.title}
                </th>
              ))}
              {props.actions && (
                <th className="pf-v6-c-table__th" scope="col">
                  Actions
                </th>
              )}
            </tr>
          </thead>
          <tbody className="pf-v6-c-table__tbody">
            {shown.map((row) => (
              <tr key={props.rowKey(row)} className="pf-v6-c-table__tr" data-row={props.rowKey(row)}>
                {props.columns.map((c) => (
                  <td key={c.title} className="pf-v6-c-table__td" data-label={c.title}>
                    {c.cell(row)}
                  </td>
                ))}
                {props.actions && (
                  <td className="pf-v6-c-table__td" data-label="Actions">
                    <div style={{ display: "flex", gap: ".25rem", flexWrap: "wrap" }}>
                      {props.actions(row)}
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </PageSection>
  );
}

/** Have the browser save what `href` points to (same origin) as a file named `name`. */
export function saveLink(href: string, name: string): void {
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

/** Trigger a download of `content` (text or a Blob) as a file named `name` (generated in the browser). */
export function download(name: string, content: string | Blob, type = "text/plain"): void {
  const url = URL.createObjectURL(typeof content === "string" ? new Blob([content], { type }) : content);
  saveLink(url, name);
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A byte count in binary units (B, KiB, MiB...). */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}
