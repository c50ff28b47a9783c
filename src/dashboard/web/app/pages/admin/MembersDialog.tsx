// A dialog that edits who belongs to something (a private flavor's projects, a group's users): the current members
// with Remove, and one candidate to add (checked before sending); the cloud's refusal is shown.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Field, FormDialog } from "../../dialog.js";
import { Button, FormSelect, FormSelectOption } from "../../pf.js";

/** Something that can be a member: id and the name shown. */
export interface Named {
  id: string;
  name: string;
}

/** What the dialog edits: `load` lists the members, `change` adds or removes one, `candidates` can be added. */
export function MembersDialog(props: {
  id: string;
  title: string;
  /** What a member is, e.g. "project" or "user". */
  noun: string;
  listLabel: string;
  empty: string;
  queryKey: readonly unknown[];
  load(): Promise<Named[]>;
  change(id: string, add: boolean): Promise<unknown>;
  candidates: Named[];
  removeLabel(name: string): string;
  onClose(): void;
}) {
  const qc = useQueryClient();
  const members = useQuery({ queryKey: props.queryKey, queryFn: props.load });
  const [chosen, setChosen] = useState("");
  const [shown, setShown] = useState(false);
  const change = useMutation({
    mutationFn: ({ id, add }: { id: string; add: boolean }) => props.change(id, add),
    onSuccess: () => setChosen(""),
    onSettled: () => qc.invalidateQueries({ queryKey: props.queryKey }),
  });
  const has = new Set((members.data ?? []).map((m) => m.id));
  const error = chosen ? undefined : `Choose a ${props.noun}.`;
  const field = `${props.id}-${props.noun}`;
  const Noun = props.noun.charAt(0).toUpperCase() + props.noun.slice(1);
  return (
    <FormDialog
      id={`${props.id}-form`}
      title={props.title}
      submit={`Add ${Noun}`}
      cancel="Done"
      busy={change.isPending}
      error={change.error ?? members.error}
      onClose={props.onClose}
      onSubmit={() => {
        setShown(true);
        if (!error) {
          setShown(false);
          change.mutate({ id: chosen, add: true });
        }
      }}
      footer={
        <ul aria-label={props.listLabel} style={{ marginTop: "1rem" }}>
          {members.isLoading && <li>Loading...</li>}
          {members.data?.length === 0 && <li>{props.empty}</li>}
          {(members.data ?? []).map((m) => (
            <li
              key={m.id}
              style={{ display: "flex", gap: ".5rem", alignItems: "center", marginBottom: ".25rem" }}
            >
              <span>{m.name}</span>
              <Button
                size="sm"
                variant="secondary"
                onClick={() => change.mutate({ id: m.id, add: false })}
                aria-label={props.removeLabel(m.name)}
              >
                Remove
              </Button>
            </li>
          ))}
        </ul>
      }
    >
      <Field label={Noun} id={field} error={error} shown={shown} required>
        <FormSelect
          id={field}
          value={chosen}
          onChange={(_e, v) => setChosen(v)}
          validated={shown && error ? "error" : "default"}
        >
          <FormSelectOption value="" label={`Choose a ${props.noun}`} isPlaceholder />
          {props.candidates
            .filter((c) => !has.has(c.id))
            .map((c) => (
              <FormSelectOption key={c.id} value={c.id} label={c.name} />
            ))}
        </FormSelect>
      </Field>
    </FormDialog>
  );
}
