/**
 * The embedded DynamoDB parses each request's expressions once per distinct text.
 *
 * dynalite validates every request's expressions by running its PEG parsers on them, with
 * the expression attribute names and values substituted while parsing. Under the worker's
 * load the same few expressions come back thousands of times (`#rev = :rev` with a handful
 * of revisions), and parsing them was the largest share of the embedded DynamoDB thread's
 * time. `validateExpressions` is a pure function of the request's expression fields, so
 * this keeps its answer per distinct set of them (an error message, or the parsed trees it
 * attaches to the request) and hands each later request a copy of the trees (dynalite's
 * update evaluation writes into them). Requests, answers and errors stay exactly dynalite's.
 */
import { createRequire } from 'node:module';

type Validations = { validateExpressions: (data: Record<string, unknown>) => string | undefined };

/** The request fields `validateExpressions` reads, and those it attaches. */
const INPUTS = ['UpdateExpression', 'ConditionExpression', 'KeyConditionExpression', 'FilterExpression', 'ProjectionExpression', 'ExpressionAttributeNames', 'ExpressionAttributeValues'] as const;
const OUTPUTS = ['_updates', '_condition', '_keyCondition', '_filter', '_projection'] as const;

/** Distinct expression sets kept (oldest dropped first). */
const CAPACITY = 4_096;

type Answer = { message: string } | { trees: Partial<Record<(typeof OUTPUTS)[number], unknown>> };

let installed = false;

/** Makes dynalite's expression validation remember its answers (once per thread). */
export function rememberDynaliteExpressions(): void {
  if (installed) return;
  installed = true;
  const validations = createRequire(import.meta.url)('dynalite/validations/index.js') as Validations;
  const parse = validations.validateExpressions;
  const answers = new Map<string, Answer>();
  validations.validateExpressions = (data) => {
    if (INPUTS.every((field) => data[field] == null)) return parse(data);
    const key = JSON.stringify(INPUTS.map((field) => data[field] ?? null));
    const known = answers.get(key);
    if (known) {
      if ('message' in known) return known.message;
      Object.assign(data, structuredClone(known.trees));
      return undefined;
    }
    const message = parse(data);
    const answer: Answer = message === undefined ? { trees: Object.fromEntries(OUTPUTS.filter((field) => data[field] !== undefined).map((field) => [field, data[field]])) } : { message };
    try {
      const kept = 'trees' in answer ? { trees: structuredClone(answer.trees) } : answer;
      if (answers.size >= CAPACITY) answers.delete(answers.keys().next().value as string);
      answers.set(key, kept);
    } catch {
      // A tree that cannot be copied is parsed every time.
    }
    return message;
  };
}
