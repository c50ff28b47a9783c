// What the Admin pages share: their API calls, the admin-only guard, project and domain names, a domain chooser, number checks and a
// usage bar.
import { useQuery } from "@tanstack/react-query";
import { useMemo, type ComponentType, type ReactNode } from "react";
import { adminComputeCalls } from "../../../api/admin-compute.js";
import { adminIdentityCalls } from "../../../api/admin-identity.js";
import { adminResourceCalls } from "../../../api/admin-resources.js";
import { useIsAdmin } from "../../admin-access.js";
import {
  EmptyState,
  EmptyStateBody,
  FormSelect,
  FormSelectOption,
  PageSection,
  Progress,
  ProgressMeasureLocation,
} from "../../pf.js";
import { useApi } from "../../session.js";
import { Loading } from "../../ui.js";

/** The admin calls of the session (compute, identity, quotas and all-project lists). */
export function useAdminCalls() {
  const { api } = useApi();
  return useMemo(
    () => ({ ac: adminComputeCalls(api), ai: adminIdentityCalls(api), ar: adminResourceCalls(api) }),
    [api],
  );
}

/** The page's content for cloud admins; other users get a refusal (the API refuses them too). */
export function AdminOnly({ children }: { children: ReactNode }) {
  const admin = useIsAdmin();
  if (admin === undefined) return <Loading what="permissions" />;
  if (!admin)
    return (
      <PageSection>
        <EmptyState titleText="Not authorized" headingLevel="h1" status="danger">
          <EmptyStateBody>
            The Admin pages are for cloud administrators (the admin role on the system or on the cloud-admin
            project).
          </EmptyStateBody>
        </EmptyState>
      </PageSection>
    );
  return <>{children}</>;
}

/** An admin page: `Content` for cloud admins (it makes no call before that is known), a refusal for others. */
export function adminPage(Content: ComponentType): ComponentType<{ params: string[] }> {
  return function AdminPage() {
    return (
      <AdminOnly>
        <Content />
      </AdminOnly>
    );
  };
}

/** Every project (cached across admin pages): the list and a lookup of names by id. */
export function useProjects() {
  const { ai } = useAdminCalls();
  const q = useQuery({ queryKey: ["admin", "projects"], queryFn: ai.projects });
  const names = new Map((q.data ?? []).map((p) => [p.id, p.name]));
  return { ...q, name: (id: string | null | undefined) => (id ? (names.get(id) ?? id) : "-") };
}

/** Every domain: the list and a lookup of names by id. */
export function useDomains() {
  const { ai } = useAdminCalls();
  const q = useQuery({ queryKey: ["admin", "domains"], queryFn: ai.domains });
  const names = new Map((q.data ?? []).map((d) => [d.id, d.name]));
  return { ...q, name: (id: string) => names.get(id) ?? id };
}

/** A domain chooser (the domain of the admin's project first when nothing is chosen). */
export function DomainSelect(props: { id: string; value: string; onChange(id: string): void }) {
  const domains = useDomains();
  return (
    <FormSelect id={props.id} value={props.value} onChange={(_e, v) => props.onChange(v)}>
      {(domains.data ?? [{ id: props.value, name: props.value }]).map((d) => (
        <FormSelectOption key={d.id} value={d.id} label={d.name} />
      ))}
    </FormSelect>
  );
}

/** Why `text` is not a whole number from `min` to `max`, or undefined. */
export function intError(text: string, min: number, max = 2 ** 31 - 1): string | undefined {
  const t = text.trim();
  const n = Number(t);
  if (!/^-?\d+$/.test(t) || n < min || n > max) return `A whole number from ${min} to ${max}.`;
  return undefined;
}

/** Why a name is refused (1 to 255 characters, not only spaces), or undefined. */
export function nameError(text: string): string | undefined {
  if (!text.trim()) return "Enter a name.";
  if (text.length > 255) return "At most 255 characters.";
  return undefined;
}

/** Used of total as a bar with its numbers (a total of 0 shows an empty bar). */
export function UsageBar({
  label,
  used,
  total,
  unit = "",
}: {
  label: string;
  used: number;
  total: number;
  unit?: string;
}) {
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  const text = `${used}${unit} of ${total}${unit}`;
  return (
    <div style={{ minWidth: "8rem" }}>
      <div aria-hidden="true">{text}</div>
      <Progress
        value={pct}
        size="sm"
        aria-label={`${label}: ${text}`}
        measureLocation={ProgressMeasureLocation.none}
        variant={pct >= 100 ? "danger" : pct >= 80 ? "warning" : undefined}
      />
    </div>
  );
}

/** A service's timestamp (Nova's have no zone: UTC) in the browser's locale; "-" when absent or unreadable. */
export function when(s: string | null | undefined): string {
  if (!s) return "-";
  const t = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(s) ? s : `${s}Z`);
  return Number.isNaN(t) ? s : new Date(t).toLocaleString();
}
