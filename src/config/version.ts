// Brook's version, from package.json (reported by `brook --version`, the serve banner and, as
// the KIP-511 software version, by ApiVersions).

import { readFileSync } from 'node:fs';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

export const BROOK_VERSION: string = readVersion();
