// Roles and role assignments: the roles, every assignment (user or group, on a project, a domain or the system);
// grant a role to a user or group on a project (checked before sending), revoke after confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { grantPath, type Actor, type Role, type RoleAssignment } from "../../../api/admin-identity.js";
import { Field, FormDialog } from "../../dialog.js";
import { Button, FormSelect, FormSelectOption, PageSection, Title } from "../../pf.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useProjects } from "./common.js";

const KEY = ["admin", "assignments"];

/** Who an assignment is for, as text. */
const actorText = (a: RoleAssignment) =>
  a.user ? `User ${a.user.name ?? a.user.id}` : a.group ? `Group ${a.group.name ?? a.group.id}` : "-";

/** Where an assignment applies, as text. */
const scopeText = (a: RoleAssignment) =>
  a.scope.project
    ? `Project ${a.scope.project.name ?? a.scope.project.id}`
    : a.scope.domain
      ? `Domain ${a.scope.domain.name ?? a.scope.domain.id}`
      : a.scope.system
        ? "System"
        : "-";

/** A sub-heading between the page's two lists. */
function Section({ title }: { title: string }) {
  return (
    <PageSection style={{ paddingBottom: 0 }}>
      <Title headingLevel="h2">{title}</Title>
    </PageSection>
  );
}

/** The grant dialog: project, user or group, role. */
function Grant({ roles, onClose }: { roles: Role[]; onClose(): void }) {
  const { ai } = useAdminCalls();
  const qc = useQueryClient();
  const projects = useProjects();
  const users = useQuery({ queryKey: ["admin", "users"], queryFn: ai.users });
  const groups = useQuery({ queryKey: ["admin", "groups"], queryFn: ai.groups });
  const [g, setG] = useState({ project: "", kind: "users" as Actor["kind"], actor: "", role: "" });
  const [shown, setShown] = useState(false);
  const errors = {
    project: g.project ? undefined : "Choose a project.",
    actor: g.actor ? undefined : g.kind === "users" ? "Choose a user." : "Choose a group.",
    role: g.role ? undefined : "Choose a role.",
  };
  const save = useMutation({
    mutationFn: () => ai.grant(g.project, { kind: g.kind, id: g.actor }, g.role),
    onSuccess: () => (void qc.invalidateQueries({ queryKey: KEY }), onClose()),
  });
  const actors = (g.kind === "users" ? users.data : groups.data) ?? [];
  const select = (
    k: "project" | "actor" | "role",
    label: string,
    placeholder: string,
    options: Array<{ id: string; name: string }>,
  ) => (
    <Field label={label} id={`grant-${k}`} error={errors[k]} shown={shown} required>
      <FormSelect
        id={`grant-${k}`}
        value={g[k]}
        onChange={(_e, v) => setG({ ...g, [k]: v })}
        validated={shown && errors[k] ? "error" : "default"}
      >
        <FormSelectOption value="" label={placeholder} isPlaceholder />
        {options.map((o) => (
          <FormSelectOption key={o.id} value={o.id} label={o.name} />
        ))}
      </FormSelect>
    </Field>
  );
  return (
    <FormDialog
      id="grant-form"
      title="Grant Role"
      submit="Grant"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!Object.values(errors).some(Boolean)) save.mutate();
      }}
    >
      {select("project", "Project", "Choose a project", projects.data ?? [])}
      <Field label="Grant to" id="grant-kind" shown={shown}>
        <FormSelect
          id="grant-kind"
          value={g.kind}
          onChange={(_e, v) => setG({ ...g, kind: v === "groups" ? "groups" : "users", actor: "" })}
        >
          <FormSelectOption value="users" label="A user" />
          <FormSelectOption value="groups" label="A group" />
        </FormSelect>
      </Field>
      {select(
        "actor",
        g.kind === "users" ? "User" : "Group",
        g.kind === "users" ? "Choose a user" : "Choose a group",
        actors,
      )}
      {select("role", "Role", "Choose a role", roles)}
    </FormDialog>
  );
}

/** The Roles page's content. */
function RolesContent() {
  const { ai } = useAdminCalls();
  const qc = useQueryClient();
  const roles = useQuery({ queryKey: ["admin", "roles"], queryFn: ai.roles });
  const assignments = useQuery({ queryKey: KEY, queryFn: ai.assignments });
  const [granting, setGranting] = useState(false);
  const [revoking, setRevoking] = useState<RoleAssignment | null>(null);
  const revoke = useMutation({
    mutationFn: ai.revoke,
    onSettled: () => qc.invalidateQueries({ queryKey: KEY }),
  });
  const key = (a: RoleAssignment) => grantPath(a) ?? `${a.role.id} ${actorText(a)} ${scopeText(a)}`;
  const text = (a: RoleAssignment) => `${a.role.name ?? a.role.id} to ${actorText(a)} on ${scopeText(a)}`;
  return (
    <>
      <PageTitle title="Roles">
        <Button onClick={() => setGranting(true)} isDisabled={!roles.data}>
          Grant Role
        </Button>
      </PageTitle>
      {revoke.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={revoke.error} />
        </div>
      )}
      <Section title="Role assignments" />
      <ResourceTable<RoleAssignment>
        label="role assignments"
        rows={assignments.data}
        loading={assignments.isLoading}
        error={assignments.error}
        rowKey={key}
        filterText={text}
        empty="Grant a role to let a user or group use a project."
        columns={[
          { title: "Role", cell: (a) => a.role.name ?? a.role.id },
          { title: "User or group", cell: actorText },
          { title: "Scope", cell: scopeText },
        ]}
        actions={(a) =>
          grantPath(a) ? (
            <Button
              size="sm"
              variant="danger"
              onClick={() => setRevoking(a)}
              aria-label={`Revoke ${text(a)}`}
            >
              Revoke
            </Button>
          ) : (
            <span>Inherited</span>
          )
        }
      />
      <Section title="Roles" />
      <ResourceTable<Role>
        label="roles"
        rows={roles.data}
        loading={roles.isLoading}
        error={roles.error}
        rowKey={(r) => r.id}
        filterText={(r) => `${r.name} ${r.id}`}
        empty="The cloud has no role."
        columns={[
          { title: "Role name", cell: (r) => r.name },
          { title: "Role ID", cell: (r) => <code>{r.id}</code> },
        ]}
      />
      <Confirm
        open={!!revoking}
        title="Revoke role?"
        body={<>Revoke {revoking && text(revoking)}. Tokens carrying this role stop working.</>}
        action="Revoke"
        onClose={() => setRevoking(null)}
        onConfirm={() => {
          if (revoking) revoke.mutate(revoking);
          setRevoking(null);
        }}
      />
      {granting && roles.data && <Grant roles={roles.data} onClose={() => setGranting(false)} />}
    </>
  );
}

/** The Roles page. */
export default adminPage(RolesContent);
