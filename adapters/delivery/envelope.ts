import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CredentialDelivery, CredentialRequest, DeliveryReceipt } from '../../src/service/ports.js';

/**
 * The Day 1 envelope: a printable letter with the temporary password, written with owner-only
 * permissions to the envelope directory for the helpdesk to print and seal. The letter is the only
 * place the password is written; print it and delete the file.
 */
export class EnvelopeLetters implements CredentialDelivery {
  constructor(private readonly directory: string) {}

  async deliver(request: CredentialRequest): Promise<DeliveryReceipt> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const file = path.join(this.directory, `${request.address.replace(/@.*/, '')}-day1-letter.txt`);
    await writeFile(file, letter(request), { mode: 0o600, flag: 'wx' });
    return { route: 'envelope', recipient: file };
  }
}

function letter(r: CredentialRequest): string {
  return [
    'PRIVATE AND CONFIDENTIAL - to be opened by the addressee only',
    '',
    `${r.given} ${r.family}`,
    r.org.name,
    '',
    'Your NHSmail account',
    '',
    `Email address:       ${r.address}`,
    `Temporary password:  ${r.temporaryPassword}`,
    '',
    'On your first day, sign in at https://portal.nhs.net. You will be asked to choose a new',
    'password and to register the Microsoft Authenticator app for multi-factor authentication.',
    'Destroy this letter once you have signed in. Never share your password with anyone,',
    'including IT staff.',
    '',
  ].join('\n');
}
