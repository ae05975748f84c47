/**
 * Checks of the guest bodies: the precompiled schema validators (no ajv compile at cold
 * start), then the rules a schema cannot say. Every failing path is listed.
 */
import type { FieldError } from '#lib/errors';
import { freeTextErrors, schemaCheck, type SchemaCheck } from '#lib/validation';
import type { CreateGuestBody, UpdateGuestBody } from './schema.ts';
import { validateCreateGuest, validateUpdateGuest } from './schema.validators.js';

const checkCreate = schemaCheck<CreateGuestBody>(validateCreateGuest);
const checkUpdate = schemaCheck<UpdateGuestBody>(validateUpdateGuest);

/** A raw identifier and a ready hash of the same kind are ambiguous: one must go. */
function identityConflicts(body: CreateGuestBody | UpdateGuestBody): FieldError[] {
  const errors: FieldError[] = [];
  if (body.email !== undefined && body.identityAttributes?.emailHash !== undefined) {
    errors.push({ path: '/identityAttributes/emailHash', message: 'must not be sent together with email' });
  }
  if (body.phone !== undefined && body.identityAttributes?.phoneHash !== undefined) {
    errors.push({ path: '/identityAttributes/phoneHash', message: 'must not be sent together with phone' });
  }
  return errors;
}

/** Numbers must be finite: JSON has no NaN, but a huge exponent parses to Infinity. */
function nonFiniteAttributes(body: CreateGuestBody | UpdateGuestBody): FieldError[] {
  return Object.entries(body.attributes ?? {})
    .filter(([, value]) => typeof value === 'number' && !Number.isFinite(value))
    .map(([key]) => ({ path: `/attributes/${key}`, message: 'must be a finite number' }));
}

/**
 * The shared free-text check: characters no hop stores, identifier-bearing and
 * case-conflicting attribute keys, in every caller-chosen string that is stored.
 */
function freeText(body: CreateGuestBody | UpdateGuestBody): FieldError[] {
  return freeTextErrors([
    { path: '/attributes', value: body.attributes, keys: true },
    { path: '/channelContext', value: body.channelContext },
    { path: '/identityAttributes/deviceFingerprint', value: body.identityAttributes?.deviceFingerprint },
  ]);
}

const withExtraChecks =
  <T extends CreateGuestBody | UpdateGuestBody>(check: (body: unknown) => SchemaCheck<T>) =>
  (body: unknown): SchemaCheck<T> => {
    const checked = check(body);
    if (!checked.ok) return checked;
    const errors = [...identityConflicts(checked.value), ...nonFiniteAttributes(checked.value), ...freeText(checked.value)];
    return errors.length === 0 ? checked : { ok: false, errors };
  };

/** Validates a `POST /guests` body; every failing path is listed. */
export const validateCreateGuestBody = withExtraChecks(checkCreate);

/** Validates a `PATCH /guests/{guestId}` body; every failing path is listed. */
export const validateUpdateGuestBody = withExtraChecks(checkUpdate);
