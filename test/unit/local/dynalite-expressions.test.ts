/**
 * The embedded DynamoDB remembers each distinct set of expressions it parsed: the answers
 * stay dynalite's own (an update applied again adds again, a condition is judged on each
 * request's values, a bad expression is refused the same way every time), and a repeated
 * set is not parsed again.
 */
import { createRequire } from 'node:module';
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedDynamoDb } from '#local/dynamodb.ts';
import { rememberDynaliteExpressions } from '#local/dynalite-expressions.ts';
import { rejectionOf } from '#test/support/rejection.ts';
import { startStateTable } from '#test/support/state-table.ts';

const TABLE = 'unit-dynalite-expressions';
const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });

let dynamo: EmbeddedDynamoDb;
beforeAll(async () => {
  dynamo = await startStateTable(TABLE);
});
afterAll(async () => {
  await dynamo.close();
});

describe('expressions in the embedded DynamoDB', () => {
  it('applies the same update expression again on each request', async () => {
    // Prepare
    const pk = `counter-${Date.now()}`;
    const add = (amount: number) =>
      dynamo.client.send(new UpdateItemCommand({ TableName: TABLE, Key: { pk: s(pk) }, UpdateExpression: 'ADD #count :amount SET #last = :amount', ExpressionAttributeNames: { '#count': 'count', '#last': 'last' }, ExpressionAttributeValues: { ':amount': n(amount) } }));

    // Act: the same text and values three times, then other values.
    await add(2);
    await add(2);
    await add(2);
    await add(5);

    // Assess
    const item = (await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(pk) }, ConsistentRead: true }))).Item;
    expect(item?.['count']).toEqual(n(11));
    expect(item?.['last']).toEqual(n(5));
  });

  it('judges a repeated condition on each request’s own values and the item as it is now', async () => {
    // Prepare
    const pk = `rev-${Date.now()}`;
    await dynamo.client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s(pk), rev: n(1) } }));
    const putAt = (expected: number) =>
      dynamo.client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s(pk), rev: n(expected + 1) }, ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': n(expected) } }));

    // Act
    await putAt(1);
    const stale = await rejectionOf(putAt(1));
    await putAt(2);

    // Assess
    expect(stale).toBeInstanceOf(ConditionalCheckFailedException);
    const item = (await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(pk) }, ConsistentRead: true }))).Item;
    expect(item?.['rev']).toEqual(n(3));
  });

  it('refuses a bad expression with dynalite’s message every time, and writes nothing', async () => {
    // Prepare
    const pk = `bad-${Date.now()}`;
    const bad = () => dynamo.client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: s(pk) }, ConditionExpression: '#rev = :missing', ExpressionAttributeNames: { '#rev': 'rev' } }));

    // Act
    const first = await rejectionOf(bad());
    const second = await rejectionOf(bad());

    // Assess
    expect(first).toMatchObject({ name: 'ValidationException' });
    expect((first as Error).message).toMatch(/ConditionExpression.*:missing/);
    expect((second as Error).message).toBe((first as Error).message);
    const item = (await dynamo.client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: s(pk) }, ConsistentRead: true }))).Item;
    expect(item).toBeUndefined();
  });

  it('parses a repeated set of expressions once and hands each request its own copy', () => {
    // Prepare: dynalite's validation in this process, counting the parser's runs.
    const require = createRequire(import.meta.url);
    const parser = require('dynalite/db/conditionParser.js') as { parse: (...args: unknown[]) => unknown };
    const original = parser.parse;
    let parses = 0;
    parser.parse = (...args: unknown[]) => {
      parses += 1;
      return original(...args);
    };
    rememberDynaliteExpressions();
    const validations = require('dynalite/validations/index.js') as { validateExpressions: (data: Record<string, unknown>) => string | undefined };
    const request = () => ({ ConditionExpression: 'attribute_not_exists(#k) AND #rev = :rev', ExpressionAttributeNames: { '#k': 'pk', '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': n(7) } }) as Record<string, unknown>;
    try {
      // Act
      const [first, second, other] = [request(), request(), { ...request(), ExpressionAttributeValues: { ':rev': n(8) } } as Record<string, unknown>];
      const answers = [first, second, other].map((data) => validations.validateExpressions(data));

      // Assess: no error; the second parse came from memory as an equal, separate tree; other values parse anew.
      expect(answers).toEqual([undefined, undefined, undefined]);
      expect(parses).toBe(2);
      expect(second['_condition']).toEqual(first['_condition']);
      expect(second['_condition']).not.toBe(first['_condition']);
      expect(JSON.stringify(other['_condition'])).toContain('"8"');
    } finally {
      parser.parse = original;
    }
  });
});
