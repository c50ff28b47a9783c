// Groups: every group with its domain; create (checked before sending), members (add and remove users), delete
// after confirmation.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import type { AdminGroup } from "../../../api/admin-identity.js";
import { Button } from "../../pf.js";
import { Confirm, ErrorAlert, PageTitle, ResourceTable } from "../../ui.js";
import { adminPage, useAdminCalls, useDomains } from "./common.js";
import { CreateInDomain } from "./CreateInDomain.js";
import { MembersDialog } from "./MembersDialog.js";

const KEY = ["admin", "groups"];

/** The Groups page's content. */
function GroupsContent() {
  const { ai } = useAdminCalls();
  const qc = useQueryClient();
  const groups = useQuery({ queryKey: KEY, queryFn: ai.groups });
  const domains = useDomains();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<AdminGroup | null>(null);
  const users = useQuery({ queryKey: ["admin", "users"], queryFn: ai.users, enabled: !!editing });
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
      {editing && (
        <MembersDialog
          id="members"
          title={`Members of ${editing.name}`}
          noun="user"
          listLabel="Members"
          empty="The group has no member yet."
          queryKey={["admin", "group-users", editing.id]}
          load={() => ai.groupUsers(editing.id)}
          change={(id, add) => ai.setGroupMember(editing.id, id, add)}
          candidates={users.data ?? []}
          removeLabel={(name) => `Remove ${name} from ${editing.name}`}
          onClose={() => setEditing(null)}
        />
      )}
    </>
  );
}

/** The Groups page. */
export default adminPage(GroupsContent);
