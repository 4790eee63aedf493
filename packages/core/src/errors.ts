import type { ZodError } from 'zod';

/**
 * Stable machine-readable codes of every redkit error. Codes never change once
 * published; messages may.
 */
export type RedkitErrorCode =
  | 'E_INVALID_OPTIONS'
  | 'E_REDIS_UNAVAILABLE'
  | 'E_SCRIPT'
  | 'E_REDIS_COMMAND'
  | 'E_CROSS_SLOT'
  | (string & {});

/**
 * Base class of every error thrown by redkit packages.
 *
 * @example
 * ```ts
 * try { await limiter.limit(user) } catch (err) {
 *   if (err instanceof RedkitError && err.code === 'E_REDIS_UNAVAILABLE') failOpen()
 * }
 * ```
 */
export class RedkitError extends Error {
  /** Stable code such as `E_LOCK_BUSY`; safe to branch on. */
  readonly code: RedkitErrorCode;

  constructor(code: RedkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** One rejected option: where it sits and what was expected. */
export interface InvalidOption {
  /** Dotted path of the option, e.g. `policies.0.limit`. */
  readonly path: string;
  readonly message: string;
}

/**
 * An option or argument failed validation. Thrown before anything is sent to
 * Redis; `issues` lists every bad field.
 */
export class InvalidOptionsError extends RedkitError {
  readonly issues: readonly InvalidOption[];

  constructor(issues: readonly InvalidOption[], options?: { cause?: unknown; context?: string }) {
    const where = options?.context ? `${options.context}: ` : '';
    const detail = issues.map((issue) => `${issue.path || '(root)'}: ${issue.message}`).join('; ');
    super('E_INVALID_OPTIONS', `${where}invalid options: ${detail}`, options);
    this.issues = issues;
  }

  /** Builds the error from a zod failure, naming each bad field by its path. */
  static fromZod(error: ZodError, context?: string): InvalidOptionsError {
    return invalidOptionsFromZod(error, context);
  }
}

// Outside the class body: a class that names itself inside its body is
// renamed `_InvalidOptionsError` by the bundler, and `name` would say so.
function invalidOptionsFromZod(error: ZodError, context?: string): InvalidOptionsError {
  const issues = error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  return new InvalidOptionsError(issues, { cause: error, ...(context ? { context } : {}) });
}

/**
 * Redis could not be reached, or did not answer within the command timeout.
 * `cause` holds the client's error.
 */
export class RedisUnavailableError extends RedkitError {
  /** True when the call ran out of time (its outcome is unknown), false when Redis could not be reached. */
  readonly timedOut: boolean;

  constructor(message: string, options?: { cause?: unknown; timedOut?: boolean }) {
    super('E_REDIS_UNAVAILABLE', message, options);
    this.timedOut = options?.timedOut ?? false;
  }
}

/** A Lua script failed on the server for a reason other than connectivity. */
export class ScriptError extends RedkitError {
  /** Versioned name of the script that failed. */
  readonly script: string;

  constructor(script: string, message: string, options?: { cause?: unknown }) {
    super('E_SCRIPT', `script ${script} failed: ${message}`, options);
    this.script = script;
  }
}

/** Redis rejected a command (a reply error such as WRONGTYPE or NOPERM). */
export class RedisCommandError extends RedkitError {
  /** The command's name, upper-case. */
  readonly command: string;

  constructor(command: string, message: string, options?: { cause?: unknown }) {
    super('E_REDIS_COMMAND', `${command} failed: ${message}`, options);
    this.command = command;
  }
}

/** The keys of one atomic operation do not hash to one cluster slot. */
export class CrossSlotError extends RedkitError {
  readonly keys: readonly string[];

  constructor(keys: readonly string[]) {
    super('E_CROSS_SLOT', `keys do not share one cluster slot: ${keys.join(', ')}`);
    this.keys = keys;
  }
}

/** Every error class of @redkit/core, for `instanceof` checks. */
export const errors = {
  RedkitError,
  InvalidOptionsError,
  RedisUnavailableError,
  ScriptError,
  RedisCommandError,
  CrossSlotError,
} as const;
