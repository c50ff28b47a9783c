// A form in a modal dialog (title, the API's refusal, fields, submit and cancel), and a field with its error text:
// the shape of every create/edit dialog of the storage pages.
import { useState, type FormEvent, type ReactNode } from "react";
import {
  Button,
  Form,
  FormGroup,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextInput,
} from "./pf.js";
import { ErrorAlert } from "./ui.js";

/** A modal form: `onSubmit` runs on submit (Enter or the button); `error` is the server's refusal. */
export function FormDialog(props: {
  id: string;
  title: string;
  submit: string;
  busy: boolean;
  error: unknown;
  onSubmit(): void;
  onClose(): void;
  children: ReactNode;
  footer?: ReactNode;
  cancel?: string;
}) {
  const submit = (e: FormEvent) => {
    e.preventDefault();
    props.onSubmit();
  };
  return (
    <Modal variant="small" isOpen onClose={props.onClose} aria-labelledby={`${props.id}-title`}>
      <ModalHeader title={props.title} labelId={`${props.id}-title`} />
      <ModalBody>
        <ErrorAlert error={props.error} title="The cloud refused the request" />
        <Form id={props.id} onSubmit={submit} noValidate>
          {props.children}
        </Form>
        {props.footer}
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form={props.id} isLoading={props.busy} isDisabled={props.busy}>
          {props.submit}
        </Button>
        <Button variant="link" onClick={props.onClose}>
          {props.cancel ?? "Cancel"}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** A labelled field showing `error` once the form was submitted (`shown`). */
export function Field(props: {
  label: string;
  id: string;
  error?: string;
  shown: boolean;
  required?: boolean;
  /** "group" when the field holds several inputs (its label then names the group). */
  role?: string;
  children: ReactNode;
}) {
  return (
    <FormGroup label={props.label} fieldId={props.id} isRequired={props.required} role={props.role}>
      {props.children}
      {props.shown && props.error && (
        <HelperText>
          <HelperTextItem variant="error">{props.error}</HelperTextItem>
        </HelperText>
      )}
    </FormGroup>
  );
}

/** Why a size in GiB is refused (a whole number from `min` to 16384), or undefined. */
export function sizeError(text: string, min = 1): string | undefined {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > 16384)
    return `A whole number of GiB from ${min} to 16384.`;
  return undefined;
}

/** Why a resource name is refused (empty, or over 255 characters), or undefined. */
export function nameError(name: string): string | undefined {
  return !name.trim() ? "Enter a name." : name.length > 255 ? "At most 255 characters." : undefined;
}

/** The part of a TanStack mutation a SaveDialog uses. */
export interface Save {
  isPending: boolean;
  error: unknown;
  mutate(v: void): void;
}

/**
 * A FormDialog that runs `save` only when every one of `errors` is clear (busy while it runs, its refusal shown);
 * its fields get `shown` (submitted once) to show their own errors.
 */
export function SaveDialog(props: {
  id: string;
  title: string;
  submit: string;
  save: Save;
  busy?: boolean;
  errors?: Array<string | undefined>;
  onClose(): void;
  footer?: ReactNode;
  cancel?: string;
  children(shown: boolean): ReactNode;
}) {
  const [shown, setShown] = useState(false);
  const { errors = [], save, busy, children, ...rest } = props;
  return (
    <FormDialog
      {...rest}
      busy={busy ?? save.isPending}
      error={save.error}
      onSubmit={() => {
        setShown(true);
        if (errors.every((e) => !e)) save.mutate();
      }}
    >
      {children(shown)}
    </FormDialog>
  );
}

/** A text field with its label and, once `shown`, its error. */
export function TextField(props: {
  label: string;
  id: string;
  value: string;
  onChange(v: string): void;
  error?: string;
  shown: boolean;
  required?: boolean;
}) {
  return (
    <Field
      label={props.label}
      id={props.id}
      error={props.error}
      shown={props.shown}
      required={props.required}
    >
      <TextInput
        id={props.id}
        value={props.value}
        onChange={(_e, x) => props.onChange(x)}
        validated={props.shown && props.error ? "error" : "default"}
      />
    </Field>
  );
}
