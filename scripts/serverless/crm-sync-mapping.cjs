/**
 * serverless.yml helper: the logical id osls gives the CRM sync worker's SQS event source
 * mapping, so the control function's environment and role can `Ref` it. osls names the
 * mapping after the function and the queue (`CrmSyncEventSourceMappingSQS<Queue>`), and the
 * queue part follows the `crmSyncQueueArn` parameter (the stack's own queue by default, a
 * shared queue when overridden), so it is derived here the way osls derives it
 * (lib/plugins/aws/package/compile/events/sqs.js and naming.getQueueLogicalId).
 * CommonJS because osls loads `${file(...)}` helpers with require().
 */
'use strict';

const queueNameOf = (arn) => {
  if (arn && typeof arn === 'object') {
    if (arn['Fn::GetAtt']) return arn['Fn::GetAtt'][0];
    if (arn['Fn::ImportValue']) return arn['Fn::ImportValue'];
    if (arn['Fn::Join']) return arn['Fn::Join'][1].slice(-1).pop();
  }
  return String(arn).split(':').pop();
};

const alphaNumeric = (name) => {
  const cleaned = String(name).replace(/[^0-9A-Za-z]/g, '');
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
};

/** `${file(./scripts/serverless/crm-sync-mapping.cjs):logicalId}` */
module.exports.logicalId = async ({ resolveVariable }) => {
  const arn = await resolveVariable('param:crmSyncQueueArn');
  return `CrmSyncEventSourceMappingSQS${alphaNumeric(queueNameOf(arn))}`;
};
