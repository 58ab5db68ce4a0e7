// Argument checks that throw what node's internal validators throw (same code, class and message), for
// methods whose node counterparts validate their arguments.
import { inspect } from 'node:util';

/** node's description of a wrong argument (determineSpecificType in node 20's lib/internal/errors.js). */
function received(value: unknown): string {
  if (value === null || value === undefined) return `Received ${value}`;
  switch (typeof value) {
    case 'function':
      return `Received function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      return ctor && 'name' in ctor ? `Received an instance of ${ctor.name}` : `Received ${inspect(value, { depth: -1 })}`;
    }
    case 'string': {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `Received type string (${s.includes("'") ? JSON.stringify(s) : `'${s}'`})`;
    }
    default: {
      let shown = inspect(value, { colors: false });
      if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
      return `Received type ${typeof value} (${shown})`;
    }
  }
}

/** node's validateInt32: a number, an integer, within int32. */
export function validateInt32(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number')
    throw Object.assign(new TypeError(`The "${name}" argument must be of type number. ${received(value)}`), { code: 'ERR_INVALID_ARG_TYPE' });
  if (!Number.isInteger(value))
    throw Object.assign(new RangeError(`The value of "${name}" is out of range. It must be an integer. Received ${value}`), { code: 'ERR_OUT_OF_RANGE' });
  if (value < -2147483648 || value > 2147483647)
    throw Object.assign(new RangeError(`The value of "${name}" is out of range. It must be >= -2147483648 && <= 2147483647. Received ${value}`), { code: 'ERR_OUT_OF_RANGE' });
}

/** node's validateObject (default flags): a non-null object that is not an array. */
export function validateObject(value: unknown, name: string): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw Object.assign(new TypeError(`The "${name}" argument must be of type object. ${received(value)}`), { code: 'ERR_INVALID_ARG_TYPE' });
}
