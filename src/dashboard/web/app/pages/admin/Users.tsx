// Users: every user with their domain; create (name, password twice, optional email and primary project, checked
// before sending), enable/disable, delete after confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AdminUser } from "../../../api/admin-identity.js";
import { Field, FormDialog } from "../../dialog.js";
import { Button, FormSelect, FormSelectOption, TextInput } from "../../pf.js";
import { useApi } from "../../session.js";
import { PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, DomainSelect, nameError, useAdminCalls, useDomains, useProjects } from "./common.js";
import { EnabledLabel, useEnableDelete } from "./enable-delete.js";

const KEY = ["admin", "users"];
const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

/** The create dialog. */
function CreateUser({ onClose }: { onClose(): void }) {
  const { ai } = useAdminCalls();
  const { session } = useApi();
  const qc = useQueryClient();
  const projects = useProjects();
  const [u, setU] = useState({ name: "", password: "", confirm: "", email: "", project: "" });
  const [domain, setDomain] = useState(session.project.domain.id);
  const [shown, setShown] = useState(false);
  const errors = {
    name: nameError(u.name),
    password: !u.password
      ? "Enter a password."
      : u.password.length > 4096
        ? "At most 4096 characters."
        : undefined,
    confirm: u.confirm !== u.password ? "The passwords differ." : undefined,
    email:
      u.email && !EMAIL_RE.test(u.email.trim()) ? "Enter an email address (name@example.org)." : undefined,
  };
  const save = useMutation({
    mutationFn: () =>
      ai.createUser({
        name: u.name.trim(),
        password: u.password,
        domain_id: domain,
        ...(u.email.trim() ? { email: u.email.trim() } : {}),
        ...(u.project ? { default_project_id: u.project } : {}),
      }),
    onSuccess: () => (void qc.invalidateQueries({ queryKey: KEY }), onClose()),
  });
  const text = (k: "name" | "password" | "confirm" | "email", label: string, required = true) => (
    <Field label={label} id={`user-${k}`} error={errors[k]} shown={shown} required={required}>
      <TextInput
        id={`user-${k}`}
        type={k === "password" || k === "confirm" ? "password" : k === "email" ? "email" : "text"}
        autoComplete={k === "password" || k === "confirm" ? "new-password" : "off"}
        value={u[k]}
        onChange={(_e, v) => setU({ ...u, [k]: v })}
        validated={shown && errors[k] ? "error" : "default"}
      />
    </Field>
  );
  return (
    <FormDialog
      id="user-form"
      title="Create User"
      submit="Create User"
      busy={save.isPending}
      error={save.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!Object.values(errors).some(Boolean)) save.mutate();
      }}
    >
      {text("name", "User name")}
      {text("password", "Password")}
      {text("confirm", "Confirm password")}
      {text("email", "Email", false)}
      <Field label="Domain" id="user-domain" shown={shown}>
        <DomainSelect id="user-domain" value={domain} onChange={setDomain} />
      </Field>
      <Field label="Primary project" id="user-project" shown={shown}>
        <FormSelect id="user-project" value={u.project} onChange={(_e, v) => setU({ ...u, project: v })}>
          <FormSelectOption value="" label="None" />
          {(projects.data ?? []).map((p) => (
            <FormSelectOption key={p.id} value={p.id} label={p.name} />
          ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}

/** The Users page's content. */
function UsersContent() {
  const { ai } = useAdminCalls();
  const { session } = useApi();
  const users = useQuery({ queryKey: KEY, queryFn: ai.users });
  const domains = useDomains();
  const projects = useProjects();
  const [creating, setCreating] = useState(false);
  const rows = useEnableDelete<AdminUser>({
    noun: "user",
    queryKey: KEY,
    setEnabled: ai.setUserEnabled,
    remove: ai.deleteUser,
    deleteBody: (u) => <>The user {u.name} is deleted with their role assignments.</>,
    disableBody: (u) => <>{u.name} can no longer log in; their tokens stop working.</>,
  });
  const self = (x: AdminUser) => x.id === session.user.id;
  return (
    <>
      <PageTitle title="Users">
        <Button onClick={() => setCreating(true)}>Create User</Button>
      </PageTitle>
      {rows.error}
      <ResourceTable<AdminUser>
        label="users"
        rows={users.data}
        loading={users.isLoading}
        error={users.error}
        rowKey={(x) => x.id}
        filterText={(x) => `${x.name} ${x.id} ${x.email ?? ""} ${domains.name(x.domain_id)}`}
        empty="Create a user, then grant them a role on a project."
        columns={[
          { title: "Name", cell: (x) => x.name },
          { title: "ID", cell: (x) => <code>{x.id}</code> },
          { title: "Domain", cell: (x) => domains.name(x.domain_id) },
          { title: "Email", cell: (x) => x.email || "-" },
          { title: "Primary project", cell: (x) => projects.name(x.default_project_id) },
          {
            title: "Enabled",
            cell: (x) => <EnabledLabel enabled={x.enabled} />,
          },
        ]}
        actions={(x) => (self(x) ? <span>You</span> : rows.actions(x))}
      />
      {rows.dialog}
      {creating && <CreateUser onClose={() => setCreating(false)} />}
    </>
  );
}

/** The Users page. */
export default adminPage(UsersContent);
