/** The partners area's Lambda function: 24 routes, dispatched by route key (lib/http/route-groups.ts). */
import { dispatchGroup } from '../../lib/http/dispatch';
import { handler as addAttributionModel } from '../http/add-attribution-model';
import { handler as addCommissionPlan } from '../http/add-commission-plan';
import { handler as createPartner } from '../http/create-partner';
import { handler as decideDealRegistration } from '../http/decide-deal-registration';
import { handler as getAttribution } from '../http/get-attribution';
import { handler as getCommissionPlan } from '../http/get-commission-plan';
import { handler as getCommissionReport } from '../http/get-commission-report';
import { handler as getDealRegistration } from '../http/get-deal-registration';
import { handler as getPartner } from '../http/get-partner';
import { handler as getPartnerStatement } from '../http/get-partner-statement';
import { handler as listAttributionModels } from '../http/list-attribution-models';
import { handler as listAttributionVersions } from '../http/list-attribution-versions';
import { handler as listCommissionPlans } from '../http/list-commission-plans';
import { handler as listDealRegistrations } from '../http/list-deal-registrations';
import { handler as listPartnerStatements } from '../http/list-partner-statements';
import { handler as listPartnerTouches } from '../http/list-partner-touches';
import { handler as listPartners } from '../http/list-partners';
import { handler as recomputeAttribution } from '../http/recompute-attribution';
import { handler as recordTouch } from '../http/record-touch';
import { handler as runCommission } from '../http/run-commission';
import { handler as runStatements } from '../http/run-statements';
import { handler as submitDealRegistration } from '../http/submit-deal-registration';
import { handler as updatePartner } from '../http/update-partner';
import { handler as verifyPartnerStatements } from '../http/verify-partner-statements';

export const handler = dispatchGroup('partners', {
  'create-partner': createPartner,
  'list-partners': listPartners,
  'get-partner': getPartner,
  'update-partner': updatePartner,
  'list-partner-touches': listPartnerTouches,
  'submit-deal-registration': submitDealRegistration,
  'list-deal-registrations': listDealRegistrations,
  'get-deal-registration': getDealRegistration,
  'decide-deal-registration': decideDealRegistration,
  'record-touch': recordTouch,
  'get-attribution': getAttribution,
  'list-attribution-versions': listAttributionVersions,
  'recompute-attribution': recomputeAttribution,
  'list-attribution-models': listAttributionModels,
  'add-attribution-model': addAttributionModel,
  'add-commission-plan': addCommissionPlan,
  'list-commission-plans': listCommissionPlans,
  'get-commission-plan': getCommissionPlan,
  'run-commission': runCommission,
  'get-commission-report': getCommissionReport,
  'list-partner-statements': listPartnerStatements,
  'get-partner-statement': getPartnerStatement,
  'run-statements': runStatements,
  'verify-partner-statements': verifyPartnerStatements,
});
