/** The contracts area's Lambda function: 6 routes, dispatched by route key (lib/http/route-groups.ts). */
import { dispatchGroup } from '../../lib/http/dispatch';
import { handler as approveContract } from '../http/approve-contract';
import { handler as checkEntitlement } from '../http/check-entitlement';
import { handler as getContract } from '../http/get-contract';
import { handler as listContractEvents } from '../http/list-contract-events';
import { handler as listContracts } from '../http/list-contracts';
import { handler as rejectContract } from '../http/reject-contract';

export const handler = dispatchGroup('contracts', {
  'get-contract': getContract,
  'list-contracts': listContracts,
  'list-contract-events': listContractEvents,
  'check-entitlement': checkEntitlement,
  'approve-contract': approveContract,
  'reject-contract': rejectContract,
});
