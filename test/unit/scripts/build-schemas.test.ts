import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSchema } from '#lib/validation/compile';
import { VALIDATOR_MODULES, renderValidatorModule } from '#scripts/build-schemas.ts';
import { validateCreateGuestBody, validateUpdateGuestBody } from '#lib/guests';
import { validatePrechatBody } from '#lib/prechat';
import { createGuestSchema, updateGuestSchema } from '#lib/guests/schema.ts';
import { prechatSchema } from '#lib/prechat/schema.ts';

const root = resolve(import.meta.dirname, '../../..');

describe('the precompiled validators (npm run build:schemas)', () => {
  describe.each(VALIDATOR_MODULES.map((module) => [module.file, module] as const))('%s', (file, module) => {
    it('is what its schemas compile to today (run npm run build:schemas after a schema change)', async () => {
      // Act
      const { js, dts } = renderValidatorModule(module);

      // Assess
      expect(await readFile(join(root, file), 'utf8')).toBe(js);
      expect(await readFile(join(root, file.replace(/\.js$/, '.d.ts')), 'utf8')).toBe(dts);
    });

    it('needs no require() in an ES module', async () => {
      expect(await readFile(join(root, file), 'utf8')).not.toMatch(/\brequire\(/);
    });
  });

  const samples: unknown[] = [
    { consent: { marketing: true, dataProcessing: false } },
    { consent: { marketing: true }, email: 'x' },
    { email: 'jane@example.com', phone: '+1 555 123 4567', consent: { marketing: false, dataProcessing: true } },
    { consent: { marketing: false, dataProcessing: true }, channelContext: { originPage: 'ftp://x', campaignId: 'a' } },
    { consent: { marketing: false, dataProcessing: true }, attributes: { 'é': 1, ok: 'x'.repeat(1025) } },
    { conversationId: '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', participantId: 7, surveyAnswers: { email: 'jane@example.com', subject: 7 } },
    { surveyAnswers: {}, sessionToken: '' },
    { conversationId: '0b7a1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', participantId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', surveyAnswers: { phone: '555-123-4567', priority: 'high' } },
    { attributes: { tier: 'gold' } },
    'not an object',
    null,
  ];

  it.each([
    ['POST /guests', createGuestSchema, validateCreateGuestBody],
    ['PATCH /guests/{guestId}', updateGuestSchema, validateUpdateGuestBody],
    ['POST /prechat/enrich', prechatSchema, validatePrechatBody],
  ] as const)('%s answers exactly as the schema compiled at run time, on valid and invalid bodies', (_route, schema, precompiled) => {
    // Prepare
    const runtime = compileSchema(schema);

    // Act
    const answers = samples.map((body) => ({ fresh: runtime(body), precompiled: precompiled(body) }));

    // Assess (no sample trips the rules the routes add on top of the schema)
    for (const { fresh, precompiled: checked } of answers) expect(checked).toEqual(fresh);
    expect(answers.some((a) => a.fresh.ok)).toBe(true);
    expect(answers.some((a) => !a.fresh.ok)).toBe(true);
  });
});
