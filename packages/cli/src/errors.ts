/** Exit codes of the retro command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * A mistake in how the command was called (unknown option, bad value, missing option, bad config
 * file). Printed without a stack trace, followed by a pointer to --help; exit code 2.
 */
export class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}
