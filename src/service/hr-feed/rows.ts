// One HR row made into what the use cases take: every value through the grammar's own validators.
import { invalid } from '../../domain/errors.js';
import { quote } from '../../domain/quote.js';
import {
  type Mobile,
  parseDate,
  parseDateOfBirth,
  parseMobile,
  parseName,
  parseOds,
  parseRegistration,
  type Registration,
} from '../../domain/validation.js';
import { DELIVERY_ROUTES, type DeliveryRoute } from '../ports.js';
import type { NewPerson } from '../provisioning.js';
import type { HrRecord } from './csv.js';

/** How many rows a report lists by name; counts are always complete. */
export const LIST_LIMIT = 1000;

/** What an HR import reads: the file's rows, whether to change anything, and progress. */
export interface HrImportInput {
  records: AsyncIterable<HrRecord>;
  dryRun: boolean;
  /** Called after each row, with the number of rows read so far. */
  onProgress?: ((rows: number) => void) | undefined;
}

export interface StarterRow {
  row: number;
  employeeNumber: string;
  org: string;
  person: NewPerson;
  startDate: string;
}

export const field = (r: HrRecord, name: string) => (r.fields[name] ?? '').trim();

/** The row's organisation when its code is readable, to count a bad row against it. */
export function odsOf(r: HrRecord): string | null {
  try {
    return parseOds(field(r, 'org_ods'));
  } catch {
    return null;
  }
}

/** A starter row as the grammar would take it: every value through the same validators as `provision`. */
export function parseStarter(r: HrRecord, now: Date): StarterRow {
  const employeeNumber = field(r, 'employee_number');
  if (!/^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$/.test(employeeNumber)) {
    throw invalid(
      'INVALID_EMPLOYEE_NUMBER',
      `employee_number ${quote(employeeNumber)} is missing or not an employee number: give the one on the HR record (letters, digits, / or -, up to 32 characters).`,
    );
  }
  const mobileText = field(r, 'mobile');
  const mobile: Mobile | undefined = mobileText ? parseMobile(mobileText) : undefined;
  const regText = field(r, 'registration');
  const reg: Registration | undefined = regText ? parseRegistration(regText) : undefined;
  const deliveryText = field(r, 'delivery').toLowerCase();
  if (deliveryText && !(DELIVERY_ROUTES as readonly string[]).includes(deliveryText)) {
    throw invalid('INVALID_DELIVERY', `delivery ${quote(deliveryText)} must be sms or envelope.`);
  }
  const delivery = (deliveryText || undefined) as DeliveryRoute | undefined;
  return {
    row: r.row,
    employeeNumber,
    org: parseOds(field(r, 'org_ods')),
    startDate: parseDate(field(r, 'start_date'), 'start_date'),
    person: {
      given: parseName(field(r, 'given_name'), 'given_name'),
      family: parseName(field(r, 'family_name'), 'family_name'),
      dob: parseDateOfBirth(field(r, 'date_of_birth'), now),
      mobile,
      reg,
      delivery,
    },
  };
}
