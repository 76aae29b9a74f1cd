/**
 * JSON-schema validation with ajv: every problem is reported together, each
 * with the key path a user would type (`plugins[1].options.port`).
 */
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';

// strictRequired is off: `required` inside if/then on properties declared elsewhere is normal JSON schema.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false, allowUnionTypes: true });
const compiled = new WeakMap<object, ValidateFunction>();

/** `/plugins/2/options/port` under prefix `config` → `config.plugins[2].options.port`. */
export function keyPath(prefix: string, instancePath: string): string {
  let path = prefix;
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(key) ? `[${key}]` : path ? `.${key}` : key;
  }
  return path || '(root)';
}

function describe(prefix: string, error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    return `${keyPath(prefix, `${error.instancePath}/${String(params.additionalProperty)}`)}: unknown key`;
  }
  if (error.keyword === 'required') {
    return `${keyPath(prefix, `${error.instancePath}/${String(params.missingProperty)}`)}: is required`;
  }
  if (error.keyword === 'enum') {
    return `${keyPath(prefix, error.instancePath)}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${keyPath(prefix, error.instancePath)}: ${error.message ?? 'is invalid'}`;
}

/**
 * Validates `data` in place (ajv fills in defaults) and returns the list of
 * problems, empty when valid. `prefix` starts every key path.
 */
export function validateAgainst(schema: object, data: unknown, prefix: string): string[] {
  let validate = compiled.get(schema);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      return [`${prefix || '(root)'}: its schema is itself invalid: ${(err as Error).message}`];
    }
    compiled.set(schema, validate);
  }
  if (validate(data)) return [];
  // oneOf/anyOf failures repeat the same path; keep each message once.
  return [...new Set((validate.errors ?? []).map((e) => describe(prefix, e)))];
}

/** Freezes an object graph (config and options are read-only once validated). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}
