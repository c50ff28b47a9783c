// The temporary URL dialog of an object: choose how long the link lasts, then copy a GET URL that works without a
// token until then (signed in the browser with the container's Temp-URL key, set first when there is none).
import { useMutation } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { tempUrlCalls } from "../../api/tempurl.js";
import { Field, SaveDialog } from "../dialog.js";
import { ClipboardCopy, FormSelect, FormSelectOption } from "../pf.js";
import { useApi } from "../session.js";

/** The expiry choices, in seconds. */
const EXPIRIES: Array<[number, string]> = [
  [3600, "1 hour"],
  [86400, "1 day"],
  [7 * 86400, "7 days"],
  [30 * 86400, "30 days"],
];

/** The dialog for object `name` of `container`. */
export function TempUrlDialog({
  container,
  name,
  onClose,
}: {
  container: string;
  name: string;
  onClose(): void;
}) {
  const { api } = useApi();
  const t = useMemo(() => tempUrlCalls(api), [api]);
  const [seconds, setSeconds] = useState(EXPIRIES[0]![0]);
  const make = useMutation({
    mutationFn: async () =>
      t.sign(await t.key(container), container, name, seconds, globalThis.location.origin),
  });
  const label = EXPIRIES.find(([s]) => s === seconds)?.[1];
  return (
    <SaveDialog
      id="tempurl-form"
      title={`Temporary URL of ${name.slice(name.lastIndexOf("/") + 1)}`}
      submit="Generate URL"
      save={make}
      onClose={onClose}
      cancel="Close"
      footer={
        make.data && (
          <div style={{ marginTop: "1rem" }}>
            <p id="tempurl-note">Anyone with this link can download the object for {label}.</p>
            <ClipboardCopy
              isReadOnly
              hoverTip="Copy"
              clickTip="Copied"
              data-testid="tempurl"
              textAriaLabel="Temporary URL"
            >
              {make.data}
            </ClipboardCopy>
          </div>
        )
      }
    >
      {() => (
        <Field label="Valid for" id="tempurl-expiry" shown={false}>
          <FormSelect
            id="tempurl-expiry"
            value={String(seconds)}
            onChange={(_e, v) => (setSeconds(Number(v)), make.reset())}
          >
            {EXPIRIES.map(([s, l]) => (
              <FormSelectOption key={s} value={String(s)} label={l} />
            ))}
          </FormSelect>
        </Field>
      )}
    </SaveDialog>
  );
}
