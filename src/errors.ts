// Errors a person sees (CLI, configuration, startup). Each has a stable code that is printed with
// the message (`brook: <message> [CODE]`) and listed in docs/errors.md; a test checks that the
// doc, this table and the codes used in the sources agree. Codes are never renamed or reused:
// scripts and support answers depend on them.
//
// To add one: add a line here and a row in docs/errors.md. The exit status follows from the code's
// prefix: BROOK_USAGE_* and BROOK_CONFIG_* (the person must change the command or the config)
// exit 2, everything else exits 1.

export const USER_ERRORS = {
  BROOK_USAGE_UNKNOWN_COMMAND: 'The first argument is not a brook command.',
  BROOK_USAGE_UNKNOWN_OPTION: 'An option is not accepted by this command.',
  BROOK_USAGE_MISSING_VALUE: 'An option that takes a value was given without one.',
  BROOK_USAGE_INVALID_ARGUMENT: 'An option or argument value is malformed.',
  BROOK_USAGE_MISSING_ARGUMENT: 'A required argument (such as a topic or group name) is missing.',
  BROOK_USAGE_UNKNOWN_SUBCOMMAND: 'The word after a command is not one of its subcommands.',
  BROOK_CONFIG_UNKNOWN_KEY: 'A configuration key is not one Brook knows.',
  BROOK_CONFIG_INVALID_VALUE: 'A configuration value has the wrong type or is out of range.',
  BROOK_CONFIG_INCONSISTENT: 'Configuration values contradict each other.',
  BROOK_CONFIG_FILE_UNREADABLE: 'The configuration file cannot be read.',
  BROOK_CONFIG_FILE_INVALID: 'The configuration file is not a valid properties file.',
  BROOK_LISTEN_IN_USE: 'Another process is already listening on a listener address.',
  BROOK_LISTEN_FAILED: 'A listener address cannot be bound (not local, or not permitted).',
  BROOK_DATA_DIR_UNUSABLE: 'A data directory cannot be created, read or written.',
  BROOK_META_CLUSTER_ID_MISMATCH: 'A data directory belongs to a different cluster than configured.',
  BROOK_META_NODE_ID_MISMATCH: 'A data directory belongs to a different node id than configured.',
  BROOK_META_INVALID: 'A data directory holds a meta.properties file Brook cannot use.',
  BROOK_NODE_TOO_OLD: 'Node.js 24 or newer is required and none was found.',
  BROOK_BROKER_UNREACHABLE: 'No broker in the --brokers list could be reached.',
  BROOK_TIMEOUT: 'A broker did not answer in time.',
  BROOK_TOPIC_EXISTS: 'The topic to create already exists.',
  BROOK_UNKNOWN_TOPIC: 'The topic does not exist.',
  BROOK_UNKNOWN_PARTITION: 'The topic has no partition with that number.',
  BROOK_UNKNOWN_GROUP: 'The consumer group does not exist.',
  BROOK_GROUP_NOT_EMPTY: 'The consumer group has active members, so the change was refused.',
  BROOK_UNSUPPORTED_BY_BROKER: 'The broker does not implement a request the command needs.',
  BROOK_REQUEST_REFUSED: 'The broker refused the request; its Kafka error name and message are shown.',
  BROOK_PRODUCE_FAILED: 'Some records could not be produced.',
  BROOK_INPUT_INVALID: 'A record read from the input does not match the --format template.',
  BROOK_CLUSTER_UNHEALTHY: 'The cluster health check found a problem.',
  BROOK_INTERNAL: 'An unexpected failure; please report it with the steps that led to it.',
} as const satisfies Record<string, string>;

export type UserErrorCode = keyof typeof USER_ERRORS;

/** Exit status for a code: 2 when the command line or configuration must change, else 1. */
export function exitCodeFor(code: UserErrorCode): number {
  return code.startsWith('BROOK_USAGE_') || code.startsWith('BROOK_CONFIG_') ? 2 : 1;
}

export function isUserErrorCode(code: string): code is UserErrorCode {
  return Object.hasOwn(USER_ERRORS, code);
}

/** An expected failure shown to a person as one line; never printed with a stack trace. */
export class BrookError extends Error {
  override name = 'BrookError';
  readonly code: UserErrorCode;

  constructor(code: UserErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }

  /** The one line the CLI prints: `brook: <message> [CODE]`. */
  format(): string {
    return `brook: ${this.message} [${this.code}]`;
  }
}
