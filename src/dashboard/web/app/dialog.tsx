// A form in a modal dialog (title, the API's refusal, fields, submit and cancel), and a field with its error text:
// the shape of every create/edit dialog of the storage pages.
import type { FormEvent, ReactNode } from "react";
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
  children: ReactNode;
}) {
  return (
    <FormGroup label={props.label} fieldId={props.id} isRequired={props.required}>
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
