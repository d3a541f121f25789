// Reading a properties file named on the command line (`brook serve --config FILE`). This is the
// only file configuration causes Brook to read: no value inside it names another file to load.

import { readFileSync } from 'node:fs';
import { BrookError } from '../errors.ts';
import { parseProperties } from './properties.ts';

export function readConfigFile(path: string, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): Record<string, string> {
  let text: string;
  try {
    text = read(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file'
      : err.code === 'EACCES' ? 'permission denied'
      : err.code === 'EISDIR' ? 'it is a directory'
      : err.message;
    throw new BrookError('BROOK_CONFIG_FILE_UNREADABLE', `cannot read config file ${path}: ${why}`, { cause: e });
  }
  return parseProperties(text, path);
}
