/**
 * The HR feed, in one module per job: reading the extract (`hr-feed/csv.ts`), validating a row
 * (`rows.ts`), the two imports (`starters.ts`, `leavers.ts`, with the per-organisation summary in
 * `summaries.ts`) and the sweep's step for rows whose day has come (`due.ts`).
 */
export * from './hr-feed/csv.js';
export * from './hr-feed/due.js';
export * from './hr-feed/leavers.js';
export { type HrImportInput, parseStarter, type StarterRow } from './hr-feed/rows.js';
export * from './hr-feed/starters.js';
