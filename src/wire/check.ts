import { canonicalName } from './message.js';

const MAX_NAME_LENGTH = 253;

/** A short, safe rendering of a bad option value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Checks a name that is about to go on the wire: at most 253 bytes, labels of 1..63
 * bytes (as UTF-8, which is how the name is written). Returns it canonical.
 */
export function checkName(name: unknown, option = 'name'): string {
  if (typeof name !== 'string') throw new TypeError(`${option}: expected a string, got ${describe(name)}`);
  const canonical = canonicalName(name);
  if (canonical.length === 0) throw new TypeError(`${option}: must not be empty`);
  // Characters count as bytes unless some take more than one in UTF-8.
  const ascii = Buffer.byteLength(canonical) === canonical.length;
  const bytes = (text: string) => (ascii ? text.length : Buffer.byteLength(text));
  if (bytes(canonical) > MAX_NAME_LENGTH) {
    throw new TypeError(`${option}: ${describe(name)} is longer than ${MAX_NAME_LENGTH} bytes`);
  }
  for (const label of canonical.split('.')) {
    const length = bytes(label);
    if (length === 0 || length > 63) {
      throw new TypeError(`${option}: ${describe(name)} has a label that is empty or longer than 63 bytes`);
    }
  }
  return canonical;
}

/** Checks an integer option within `[min, max]`. */
export function checkInteger(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${option}: expected an integer in ${min}..${max}, got ${describe(value)}`);
  }
  return value;
}

/** Checks an optional boolean option. */
export function checkBoolean(option: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new TypeError(`${option}: expected true or false, got ${describe(value)}`);
  }
  return value;
}

/** Checks an optional `signal` option. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(`signal: expected an AbortSignal, got ${describe(value)}`);
  }
  return value;
}

/**
 * `null` is not "use the default": an option given as `null` is a mistake worth naming,
 * like any other wrong type.
 */
export function rejectNulls(options: object, what = 'options'): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${what}: expected an object, got ${describe(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    if (value === null) throw new TypeError(`${key}: expected a value or nothing, got null`);
  }
}
