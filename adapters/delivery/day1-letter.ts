import PDFDocument from 'pdfkit';
import { categoryForOrgKind, contactFor } from '../../src/domain/contact.js';
import type { CredentialRequest } from '../../src/service/ports.js';

export const LETTER_TITLE = 'NHSmail Day 1 letter';
export const PORTAL_URL = 'https://portal.nhs.net';

// The PDF standard fonts: nothing to embed or ship, and every printer has them. They only know
// Windows-1252, so names are brought into it (see printable) before they are drawn.
const REGULAR = 'Helvetica';
const BOLD = 'Helvetica-Bold';
const MONO = 'Courier-Bold';
const MARGIN = 56; // 2 cm
const NHS_BLUE = '#005EB8';

/** Characters a reader can take for another; the password alphabet avoids them, but say so from the password itself. */
const LOOKALIKES: Record<string, string> = {
  '0': 'zero',
  O: 'capital letter O',
  o: 'small letter o',
  '1': 'one',
  I: 'capital letter i',
  l: 'small letter L',
  '|': 'vertical bar',
};

/** The Day 1 letter as a one-page A4 PDF. The password is drawn in it and goes nowhere else. */
export function renderDay1Letter(r: CredentialRequest): Promise<Buffer> {
  if (printable(r.temporaryPassword) !== r.temporaryPassword) {
    // A substituted character would print a password that does not work.
    throw new Error('the temporary password has a character the Day 1 letter cannot print');
  }
  const doc = new PDFDocument({
    size: 'A4',
    margin: MARGIN,
    lang: 'en-GB',
    displayTitle: true,
    info: { Title: LETTER_TITLE, Subject: `NHSmail account ${r.address}`, Creator: 'nhsmail-bot' },
  });
  const chunks: Buffer[] = [];
  const written = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  layOut(doc, r);
  doc.end();
  return written;
}

function layOut(doc: PDFKit.PDFDocument, r: CredentialRequest): void {
  const width = doc.page.width - 2 * MARGIN;
  const name = printable(`${r.given} ${r.family}`);
  const help = printable(contactFor(categoryForOrgKind(r.org.kind)).who);

  const tap = r.credential === 'tap';
  doc.fillColor(NHS_BLUE).font(BOLD).fontSize(10).text('PRIVATE AND CONFIDENTIAL');
  doc.fillColor('black').font(REGULAR).text('To be opened by the addressee only. Keep this letter sealed.');
  doc.moveDown(1.5);
  doc.fontSize(11).text(name);
  doc.text(`${printable(r.org.name)} (${r.org.ods})`);
  doc.moveDown(2);

  doc.fillColor(NHS_BLUE).font(BOLD).fontSize(18).text('Your NHSmail account');
  doc.fillColor('black').moveDown(0.5);
  paragraph(doc, `Dear ${name},`);
  paragraph(
    doc,
    tap
      ? `Welcome. ${printable(r.org.name)} has created your NHSmail account. This letter holds your email address and a Temporary Access Pass: a one-off code that lets you sign in the first time and set up how you will sign in from then on.`
      : `Welcome. ${printable(r.org.name)} has created your NHSmail account. This letter holds your email address and a temporary password: you will choose your own password the first time you sign in.`,
  );

  const labelX = MARGIN;
  const valueX = MARGIN + 135;
  let y = doc.y + 4;
  doc.font(BOLD).fontSize(11).text('Email address:', labelX, y, { lineBreak: false });
  doc
    .font(MONO)
    .fontSize(13)
    .text(r.address, valueX, y - 1, { lineBreak: false });
  y += 26;
  doc
    .font(BOLD)
    .fontSize(11)
    .text(tap ? 'Temporary Access Pass:' : 'Temporary password:', labelX, y + 2, { lineBreak: false });
  doc
    .font(MONO)
    .fontSize(18)
    .text(r.temporaryPassword, valueX, y - 1, { lineBreak: false });
  doc.x = MARGIN;
  doc.y = y + 30;
  paragraph(
    doc,
    `Letters are case-sensitive. ${lookalikeNote(r.temporaryPassword)} Each character is spelled out below: capital letter, small letter, digit or symbol.`,
    9.5,
  );
  spellOut(doc, r.temporaryPassword, width);

  heading(doc, 'On your first day');
  const steps = [
    ...(tap
      ? [
          `Go to ${PORTAL_URL}, enter your email address, and when asked enter the Temporary Access Pass. It works only from your start date, for a limited time.`,
          'Set up how you will sign in from then on, as the portal asks.',
        ]
      : [
          `Go to ${PORTAL_URL} and sign in with your email address and the temporary password.`,
          'When asked, choose a new password of your own. The temporary password then stops working.',
        ]),
    r.mfaRequired
      ? 'Register the Microsoft Authenticator app on your phone for multi-factor authentication (MFA), as the portal asks. You cannot use your account until you have.'
      : 'Multi-factor authentication (MFA) is not required for your organisation at first login, but we recommend you register the Microsoft Authenticator app on your phone when the portal offers it.',
    'Your account becomes active once your first sign-in is recorded. Then destroy this letter.',
  ];
  for (const [i, step] of steps.entries()) numbered(doc, i + 1, step);

  heading(doc, 'Keep this letter safe');
  for (const point of [
    'Keep it sealed until you sign in, and do not let anyone else read it.',
    'If the envelope was open when it reached you, do not use the password: ask for a new one (see below).',
    'Nobody will ever ask you for your password, including IT staff. Do not share it or write it down anywhere else.',
    'Destroy this letter (shred it) as soon as you have chosen your own password.',
  ]) {
    numbered(doc, '-', point);
  }

  heading(doc, 'If you need help');
  paragraph(doc, `${help} Give them your email address, never your password.`);
}

function heading(doc: PDFKit.PDFDocument, text: string): void {
  doc.moveDown(0.6).fillColor(NHS_BLUE).font(BOLD).fontSize(12).text(text, MARGIN).fillColor('black');
  doc.moveDown(0.3);
}

function paragraph(doc: PDFKit.PDFDocument, text: string, size = 10.5): void {
  doc.font(REGULAR).fontSize(size).text(text, MARGIN).moveDown(0.5);
}

/** A numbered step or a bullet ('-'), with its text indented past the marker. */
function numbered(doc: PDFKit.PDFDocument, marker: number | '-', text: string): void {
  const y = doc.y;
  doc.font(marker === '-' ? REGULAR : BOLD).fontSize(10.5);
  doc.text(marker === '-' ? '\u2022' : `${marker}.`, MARGIN, y, { lineBreak: false });
  doc.font(REGULAR).text(text, MARGIN + 18, y, { width: doc.page.width - 2 * MARGIN - 18 });
  doc.moveDown(0.25);
}

/** One box per character, numbered above and named below, so no character is mistaken for another. */
function spellOut(doc: PDFKit.PDFDocument, password: string, width: number): void {
  const cell = 27;
  const gap = 2.5;
  const rowHeight = cell + 24;
  const perRow = Math.max(1, Math.floor((width + gap) / (cell + gap)));
  const top = doc.y + 2;
  const chars = [...password];
  chars.forEach((ch, i) => {
    const x = MARGIN + (i % perRow) * (cell + gap);
    const y = top + Math.floor(i / perRow) * rowHeight;
    const centred = { width: cell, align: 'center', lineBreak: false } as const;
    doc
      .font(REGULAR)
      .fontSize(6.5)
      .fillColor('#425563')
      .text(String(i + 1), x, y, centred);
    doc
      .lineWidth(0.75)
      .strokeColor('#768692')
      .rect(x, y + 9, cell, cell)
      .stroke();
    doc
      .font(MONO)
      .fontSize(16)
      .fillColor('black')
      .text(ch, x, y + 9 + 7, centred);
    doc
      .font(REGULAR)
      .fontSize(6.5)
      .fillColor('#425563')
      .text(kindOf(ch), x, y + 11 + cell, centred);
  });
  doc.fillColor('black');
  doc.x = MARGIN;
  doc.y = top + Math.ceil(chars.length / perRow) * rowHeight;
}

function kindOf(ch: string): string {
  if (/\p{Lu}/u.test(ch)) return 'capital';
  if (/\p{Ll}/u.test(ch)) return 'small';
  if (/\p{Nd}/u.test(ch)) return 'digit';
  return 'symbol';
}

function lookalikeNote(password: string): string {
  const found = [...new Set(password)].filter((ch) => ch in LOOKALIKES);
  if (found.length === 0) {
    return 'It has no characters that look alike: no 0 (zero), O or o, and no 1 (one), I (capital i) or l (small L).';
  }
  return `Take care with ${found.map((ch) => `${ch} (${LOOKALIKES[ch]})`).join(', ')}.`;
}

// Windows-1252's printable characters: Latin-1 plus the 0x80-0x9F punctuation and letters.
const CP1252_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const NO_DECOMPOSITION: Record<string, string> = { ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ħ: 'h', Ħ: 'H', ı: 'i' };

const inCp1252 = (ch: string): boolean => {
  const code = ch.codePointAt(0) ?? 0;
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || CP1252_EXTRA.has(ch);
};

/**
 * Text the standard fonts can draw. Names may hold any letter; one outside Windows-1252 loses its
 * accents (Nguyễn → Nguyen) or, failing that, shows as '?', instead of corrupting the line: pdfkit
 * writes such a character's code unchecked into the string.
 */
export function printable(text: string): string {
  return [...text.normalize('NFC')]
    .map((ch) => {
      if (inCp1252(ch)) return ch;
      const bare = NO_DECOMPOSITION[ch] ?? ch.normalize('NFD').replace(/\p{M}/gu, '');
      return bare.length > 0 && [...bare].every(inCp1252) ? bare : '?';
    })
    .join('');
}
