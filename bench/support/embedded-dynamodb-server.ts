/**
 * The embedded DynamoDB (with its transactions) in a process of its own, for benchmarks that
 * measure the client's CPU apart from the server's: it sends `{ endpoint }` once listening,
 * answers `'cpu'` with its process.cpuUsage() and stops on `'close'`.
 */
import { startStateTable } from '#test/support/state-table.ts';

const tableName = process.argv[2] ?? 'bench-table';
const dynamo = await startStateTable(tableName);
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  if (message === 'close') void dynamo.close().then(() => process.exit(0));
});
process.send?.({ endpoint: dynamo.endpoint });
