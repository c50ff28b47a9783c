// The create dialog of a project or a group: name (checked before sending), description and domain.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Field, FormDialog } from "../../dialog.js";
import { TextArea, TextInput } from "../../pf.js";
import { useApi } from "../../session.js";
import { DomainSelect, nameError } from "./common.js";

/** What the dialog creates: "project" or "group", the longest name, the call, and the list to refresh. */
export function CreateInDomain(props: {
  kind: "project" | "group";
  maxName: number;
  create(v: { name: string; description: string; domain_id: string }): Promise<unknown>;
  refresh: readonly unknown[];
  onClose(): void;
}) {
  const { session } = useApi();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [domain, setDomain] = useState(session.project.domain.id);
  const [shown, setShown] = useState(false);
  const error =
    nameError(name) ?? (name.length > props.maxName ? `At most ${props.maxName} characters.` : undefined);
  const save = useMutation({
    mutationFn: () => props.create({ name: name.trim(), description, domain_id: domain }),
    onSuccess: () => (void qc.invalidateQueries({ queryKey: props.refresh }), props.onClose()),
  });
  const id = (field: string) => `${props.kind}-${field}`;
  const title = `Create ${props.kind === "project" ? "Project" : "Group"}`;
  return (
    <FormDialog
      id={id("form")}
      title={title}
      submit={title}
      busy={save.isPending}
      error={save.error}
      onClose={props.onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) save.mutate();
      }}
    >
      <Field label="Name" id={id("name")} error={error} shown={shown} required>
        <TextInput
          id={id("name")}
          value={name}
          onChange={(_e, v) => setName(v)}
          validated={shown && error ? "error" : "default"}
        />
      </Field>
      <Field label="Description" id={id("description")} shown={shown}>
        <TextArea
          id={id("description")}
          value={description}
          onChange={(_e, v) => setDescription(v)}
          rows={2}
        />
      </Field>
      <Field label="Domain" id={id("domain")} shown={shown}>
        <DomainSelect id={id("domain")} value={domain} onChange={setDomain} />
      </Field>
    </FormDialog>
  );
}
