// Groups: every group with its domain; create (checked before sending), members (add and remove users), delete
// after confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AdminGroup } from "../../../api/admin-identity.js";
import { Field, FormDialog } from "../../dialog.js";
import { Button, FormSelect, FormSelectOption } from "../../pf.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useDomains } from "./common.js";
import { CreateInDomain } from "./CreateInDomain.js";

const KEY = ["admin", "groups"];

/** The members dialog: the group's users, add one, remove one. */
function Members({ group, onClose }: { group: AdminGroup; onClose(): void }) {
  const { ai } = useAdminCalls();
  const qc = useQueryClient();
  const key = ["admin", "group-users", group.id];
  const members = useQuery({ queryKey: key, queryFn: () => ai.groupUsers(group.id) });
  const users = useQuery({ queryKey: ["admin", "users"], queryFn: ai.users });
  const [user, setUser] = useState("");
  const [shown, setShown] = useState(false);
  const change = useMutation({
    mutationFn: ({ u, member }: { u: string; member: boolean }) => ai.setGroupMember(group.id, u, member),
    onSuccess: () => setUser(""),
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  const has = new Set((members.data ?? []).map((m) => m.id));
  const error = user ? undefined : "Choose a user.";
  return (
    <FormDialog
      id="members-form"
      title={`Members of ${group.name}`}
      submit="Add User"
      cancel="Done"
      busy={change.isPending}
      error={change.error ?? members.error}
      onClose={onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) {
          setShown(false);
          change.mutate({ u: user, member: true });
        }
      }}
      footer={
        <ul aria-label="Members" style={{ marginTop: "1rem" }}>
          {members.isLoading && <li>Loading...</li>}
          {members.data?.length === 0 && <li>The group has no member yet.</li>}
          {(members.data ?? []).map((m) => (
            <li
              key={m.id}
              style={{ display: "flex", gap: ".5rem", alignItems: "center", marginBottom: ".25rem" }}
            >
              <span>{m.name}</span>
              <Button
                size="sm"
                variant="secondary"
                onClick={() => change.mutate({ u: m.id, member: false })}
                aria-label={`Remove ${m.name} from ${group.name}`}
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      }
    >
      <Field label="User" id="members-user" error={error} shown={shown} required>
        <FormSelect
          id="members-user"
          value={user}
          onChange={(_e, v) => setUser(v)}
          validated={shown && error ? "error" : "default"}
        >
          <FormSelectOption value="" label="Choose a user" isPlaceholder />
          {(users.data ?? [])
            .filter((u) => !has.has(u.id))
            .map((u) => (
              <FormSelectOption key={u.id} value={u.id} label={u.name} />
            ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}

/** The Groups page's content. */
function GroupsContent() {
  const { ai } = useAdminCalls();
  const qc = useQueryClient();
  const groups = useQuery({ queryKey: KEY, queryFn: ai.groups });
  const domains = useDomains();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<AdminGroup | null>(null);
  const [deleting, setDeleting] = useState<AdminGroup | null>(null);
  const del = useMutation({
    mutationFn: ai.deleteGroup,
    onSettled: () => qc.invalidateQueries({ queryKey: KEY }),
  });
  return (
    <>
      <PageTitle title="Groups">
        <Button onClick={() => setCreating(true)}>Create Group</Button>
      </PageTitle>
      {del.error && (
        <div style={{ padding: "0 1.5rem" }}>
          <ErrorAlert error={del.error} />
        </div>
      )}
      <ResourceTable<AdminGroup>
        label="groups"
        rows={groups.data}
        loading={groups.isLoading}
        error={groups.error}
        rowKey={(g) => g.id}
        filterText={(g) => `${g.name} ${g.id} ${g.description} ${domains.name(g.domain_id)}`}
        empty="Create a group to grant roles to many users at once."
        columns={[
          { title: "Name", cell: (g) => g.name },
          { title: "ID", cell: (g) => <code>{g.id}</code> },
          { title: "Domain", cell: (g) => domains.name(g.domain_id) },
          { title: "Description", cell: (g) => g.description || "-" },
        ]}
        actions={(g) => (
          <>
            <Button
              size="sm"
              variant="secondary"
              onClick={() => setEditing(g)}
              aria-label={`Members of ${g.name}`}
            >
              Members
            </Button>
            <Button size="sm" variant="danger" onClick={() => setDeleting(g)} aria-label={`Delete ${g.name}`}>
              Delete
            </Button>
          </>
        )}
      />
      <Confirm
        open={!!deleting}
        title="Delete group?"
        body={<>The group {deleting?.name} is deleted; its members lose the roles granted to it.</>}
        action="Delete"
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          if (deleting) del.mutate(deleting.id);
          setDeleting(null);
        }}
      />
      {creating && (
        <CreateInDomain
          kind="group"
          maxName={255}
          create={ai.createGroup}
          refresh={KEY}
          onClose={() => setCreating(false)}
        />
      )}
      {editing && <Members group={editing} onClose={() => setEditing(null)} />}
    </>
  );
}

/** The Groups page. */
export default adminPage(GroupsContent);
