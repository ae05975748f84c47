/**
 * Run-time schema compilation with ajv: one configured instance per container, each
 * schema compiled once (call it at module scope). Functions on a cold-start budget use
 * precompiled validators instead (`npm run build:schemas`, `schemaCheck`); the build
 * script uses this same configuration, so both check alike.
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
 * Compiles a schema once and returns a checker shaped like the HTTP stack's
 * `validateBody`. Call it at module scope so the compile cost is paid at cold start.
 */
export function compileSchema<T>(schema: SchemaObject): (body: unknown) => SchemaCheck<T> {
  shared ??= createAjv();
  const validate = shared.compile<T>(schema);
  return (body) => (validate(body) ? { ok: true, value: body } : { ok: false, errors: fieldErrorsFromAjv(validate.errors) });
}
