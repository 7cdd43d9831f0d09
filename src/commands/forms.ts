import type { ErrorCode } from '../domain/errors.js';
import { DSPT_STATUSES, SITE_KINDS } from '../domain/organisation.js';
import {
  parseCqcLocation,
  parseDateOfBirth,
  parseDspt,
  parseMobile,
  parseName,
  parseOds,
  parseRegistration,
} from '../domain/validation.js';

/**
 * The forms that stand in for flags, on every chat platform: `provision`, `site register` and
 * `site request-account` typed with no options open one (a Slack modal, a Teams Adaptive Card). Each field is one grammar flag and is checked with the same
 * validator the grammar uses, so a bad value is shown next to its field.
 */
export interface FormField {
  /** Block id and action id; also the grammar flag, without the dashes. */
  flag: string;
  label: string;
  kind: 'text' | 'date' | 'select';
  optional: boolean;
  options?: readonly string[];
  hint?: string;
  placeholder?: string;
  check?: (value: string, now: Date) => unknown;
}

export interface FormSpec {
  command: 'provision' | 'site register' | 'site request-account';
  callbackId: string;
  title: string;
  submit: string;
  fields: FormField[];
}

const given: FormField = {
  flag: 'given',
  label: 'Given name',
  kind: 'text',
  optional: false,
  check: (v) => parseName(v, 'given name'),
};
const family: FormField = {
  flag: 'family',
  label: 'Family name',
  kind: 'text',
  optional: false,
  check: (v) => parseName(v, 'family name'),
};
const mobile: FormField = {
  flag: 'mobile',
  label: 'Mobile number (from the HR record)',
  kind: 'text',
  optional: true,
  placeholder: '07700 900123',
  hint: 'The temporary password goes to this number by SMS. Leave empty for a Day 1 envelope.',
  check: (v) => parseMobile(v),
};
const dob: FormField = {
  flag: 'dob',
  label: 'Date of birth',
  kind: 'date',
  optional: true,
  check: (v, now) => parseDateOfBirth(v, now),
};
const reg: FormField = {
  flag: 'reg',
  label: 'Professional registration',
  kind: 'text',
  optional: true,
  placeholder: 'GMC:1234567',
  hint: 'BODY:NUMBER with BODY one of GMC, NMC, GPhC, GDC, HCPC. Used to find an existing account.',
  check: (v) => parseRegistration(v),
};
const delivery: FormField = {
  flag: 'delivery',
  label: 'Deliver the temporary password by',
  kind: 'select',
  optional: true,
  options: ['sms', 'envelope'],
};
const ods = (flag: string, label: string): FormField => ({
  flag,
  label,
  kind: 'text',
  optional: false,
  placeholder: 'RXX',
  check: (v) => parseOds(v),
});

export const FORMS: FormSpec[] = [
  {
    command: 'provision',
    callbackId: 'form_provision',
    title: 'New starter',
    submit: 'Create account',
    fields: [given, family, ods('org', 'Organisation (ODS code)'), mobile, dob, reg, delivery],
  },
  {
    command: 'site request-account',
    callbackId: 'form_site_request_account',
    title: 'Account for site staff',
    submit: 'Request account',
    fields: [ods('site', 'Site (ODS code)'), given, family, mobile, dob, reg, delivery],
  },
  {
    command: 'site register',
    callbackId: 'form_site_register',
    title: 'Register a site',
    submit: 'Register',
    fields: [
      ods('ods', 'Site ODS code'),
      { flag: 'kind', label: 'Kind of site', kind: 'select', optional: false, options: SITE_KINDS },
      { flag: 'name', label: 'Site name', kind: 'text', optional: false },
      {
        flag: 'dspt',
        label: 'DSPT status',
        kind: 'select',
        optional: false,
        options: DSPT_STATUSES,
        check: (v) => parseDspt(v),
      },
      {
        flag: 'cqc-location',
        label: 'CQC location ID (care homes)',
        kind: 'text',
        optional: true,
        placeholder: '1-101661355',
        hint: 'A care home’s ID on its CQC page: "1-" then digits. Leave it empty for a pharmacy or a dental practice.',
        check: (v) => parseCqcLocation(v),
      },
      { ...given, flag: 'owner-given', label: 'Owner’s given name' },
      { ...family, flag: 'owner-family', label: 'Owner’s family name' },
      { ...mobile, flag: 'owner-mobile', label: 'Owner’s mobile number' },
      { ...reg, flag: 'owner-reg', label: 'Owner’s professional registration' },
    ],
  },
];

export const formForText = (text: string): FormSpec | undefined => {
  const words = text.trim().toLowerCase().split(/\s+/).join(' ');
  return FORMS.find((f) => f.command === words);
};

export const formByCallback = (callbackId: string): FormSpec | undefined =>
  FORMS.find((f) => f.callbackId === callbackId);

/** The submitted values, field by field (empty ones left out), from a flag → value record. */
export function formValues(
  spec: FormSpec,
  submitted: Record<string, string | null | undefined>,
): Map<string, string> {
  const values = new Map<string, string>();
  for (const f of spec.fields) {
    const value = submitted[f.flag] ?? '';
    if (value.trim() !== '') values.set(f.flag, value.trim());
  }
  return values;
}

/** Each field's own problem, worded as the grammar words it, keyed by block id. */
export function fieldErrors(spec: FormSpec, values: Map<string, string>, now: Date): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const f of spec.fields) {
    const value = values.get(f.flag);
    if (value === undefined) {
      if (!f.optional) errors[f.flag] = `${f.label} is required.`;
      continue;
    }
    try {
      f.check?.(value, now);
    } catch (e) {
      errors[f.flag] = e instanceof Error ? e.message : String(e);
    }
  }
  return errors;
}

/** The grammar words the form stands for, e.g. `provision --given Jane --family Doe --org RXX`. */
export function formWords(spec: FormSpec, values: Map<string, string>): string[] {
  const words = spec.command.split(' ');
  for (const f of spec.fields) {
    const value = values.get(f.flag);
    if (value !== undefined) words.push(`--${f.flag}`, value);
  }
  return words;
}

/** Fields a refusal from the core belongs next to, when it is about one field (first that the form has). */
const FIELDS_OF_REFUSAL: Partial<Record<ErrorCode, string[]>> = {
  ORG_NOT_FOUND: ['org', 'site'],
  NOT_A_SITE: ['site'],
  MOBILE_REQUIRED: ['mobile', 'owner-mobile'],
  ORG_EXISTS: ['ods'],
  DSPT_TOO_LOW: ['dspt'],
  // Required or refused by the kind of site: only the whole form can tell, so the grammar does.
  CQC_LOCATION_REQUIRED: ['cqc-location'],
  INVALID_CQC_LOCATION: ['cqc-location'],
};

export function fieldOfRefusal(spec: FormSpec, code: ErrorCode): string | undefined {
  return FIELDS_OF_REFUSAL[code]?.find((flag) => spec.fields.some((f) => f.flag === flag));
}
