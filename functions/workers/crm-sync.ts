import { appendFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { loadAtColdStart, sqsStack } from '#lib/lambda';
import { loadSyncWorkerConfig, syncCrmBatch } from '#lib/sync';

const config = loadAtColdStart(() => loadSyncWorkerConfig());
const t = (m: string) => appendFileSync('/tmp/smoke/trace.log', `${new Date().toISOString()} t${threadId} ${m}\n`);
t('module loaded');
const inner = sqsStack(async (event, context) => {
  t(`middy-inner ${event.Records.length} rem ${context.getRemainingTimeInMillis()}`);
  const r = await syncCrmBatch(event, context, config);
  t(`middy-inner done`);
  return r;
});
export const handler = async (event: any, context: any) => {
  t(`enter ${event.Records?.length}`);
  const r = await inner(event, context);
  t('exit');
  return r;
};
