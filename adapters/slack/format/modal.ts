import type { types } from '@slack/bolt';
import type { FormSpec } from '../../../src/commands/forms.js';

const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text });

/** The modal for a form; `metadata` travels back with the submission (e.g. the channel). */
export function formView(spec: FormSpec, metadata: Record<string, string>): types.ModalView {
  return {
    type: 'modal',
    callback_id: spec.callbackId,
    title: plain(spec.title),
    submit: plain(spec.submit),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(metadata),
    blocks: spec.fields.map((f): types.InputBlock => {
      const element: types.InputBlockElement =
        f.kind === 'date'
          ? { type: 'datepicker', action_id: f.flag }
          : f.kind === 'select'
            ? {
                type: 'static_select',
                action_id: f.flag,
                options: (f.options ?? []).map((o) => ({ text: plain(o), value: o })),
              }
            : {
                type: 'plain_text_input',
                action_id: f.flag,
                ...(f.placeholder ? { placeholder: plain(f.placeholder) } : {}),
              };
      return {
        type: 'input',
        block_id: f.flag,
        label: plain(f.label),
        optional: f.optional,
        element,
        ...(f.hint ? { hint: plain(f.hint) } : {}),
      };
    }),
  };
}

type StateValues = Record<
  string,
  Record<
    string,
    { value?: string | null; selected_date?: string | null; selected_option?: { value: string } | null }
  >
>;

/** A modal's submitted state as a flag → value record. */
export function modalValues(spec: FormSpec, state: StateValues): Record<string, string | null | undefined> {
  const out: Record<string, string | null | undefined> = {};
  for (const f of spec.fields) {
    const input = state[f.flag]?.[f.flag];
    out[f.flag] = input?.value ?? input?.selected_date ?? input?.selected_option?.value;
  }
  return out;
}
