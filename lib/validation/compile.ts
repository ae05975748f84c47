/**
 * Run-time schema compilation with ajv: one configured instance per container, each
 * schema compiled once, on first use. Functions on a cold-start budget use precompiled
 * validators instead (`npm run build:schemas`, `schemaCheck`); the build script uses this
 * same configuration, so both check alike.
 */
import { Ajv, type Options, type SchemaObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { fieldErrorsFromAjv, type SchemaCheck } from './ajv.ts';

// ajv-formats is CommonJS; depending on the loader its default export is the plugin or
// the module object holding it.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ??
  addFormatsModule) as typeof addFormatsModule;

/** The suite's ajv options: every error collected, strict schemas, union types allowed. */
export const AJV_OPTIONS: Options = { allErrors: true, strict: true, allowUnionTypes: true };

/** The formats request schemas may use. */
export const AJV_FORMATS = ['uri', 'email'] as const;

/** A configured ajv instance (`extra` adds options, e.g. standalone code generation). */
export function createAjv(extra: Options = {}): Ajv {
  const ajv = new Ajv({ ...AJV_OPTIONS, ...extra });
  addFormats(ajv, [...AJV_FORMATS]);
  return ajv;
}

let shared: Ajv | undefined;

/**
 * A checker shaped like the HTTP stack's `validateBody` for `schema`, compiled on its
 * first use and then reused. Declare it at module scope: compiling there instead would
 * make every function that merely imports the module pay ajv's compile time (tens of
 * milliseconds) at cold start, whether it ever checks anything or not.
 */
export function compileSchema<T>(schema: SchemaObject): (body: unknown) => SchemaCheck<T> {
  let validate: ((data: unknown) => boolean) & { errors?: Parameters<typeof fieldErrorsFromAjv>[0] } | undefined;
  return (body) => {
    if (!validate) {
      shared ??= createAjv();
      validate = shared.compile<T>(schema);
    }
    return validate(body) ? { ok: true, value: body as T } : { ok: false, errors: fieldErrorsFromAjv(validate.errors, body) };
  };
}
