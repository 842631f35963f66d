/** The finance area's Lambda function: 18 routes, dispatched by route key (lib/http/route-groups.ts). */
import { dispatchGroup } from '../../lib/http/dispatch';
import { handler as approveTrueUp } from '../http/approve-true-up';
import { handler as closePeriod } from '../http/close-period';
import { handler as freezePeriod } from '../http/freeze-period';
import { handler as getJournalExport } from '../http/get-journal-export';
import { handler as getReconciliation } from '../http/get-reconciliation';
import { handler as getReportRollforward } from '../http/get-report-rollforward';
import { handler as getReportTrialBalance } from '../http/get-report-trial-balance';
import { handler as getReportWaterfall } from '../http/get-report-waterfall';
import { handler as getRevenueSchedule } from '../http/get-revenue-schedule';
import { handler as listFxRates } from '../http/list-fx-rates';
import { handler as listJournal } from '../http/list-journal';
import { handler as listPeriods } from '../http/list-periods';
import { handler as listReconciliationItems } from '../http/list-reconciliation-items';
import { handler as listReconciliations } from '../http/list-reconciliations';
import { handler as postRevenuePreview } from '../http/post-revenue-preview';
import { handler as putFxRates } from '../http/put-fx-rates';
import { handler as recordDisbursement } from '../http/record-disbursement';
import { handler as reopenPeriod } from '../http/reopen-period';

export const handler = dispatchGroup('finance', {
  'post-revenue-preview': postRevenuePreview,
  'get-revenue-schedule': getRevenueSchedule,
  'list-journal': listJournal,
  'get-report-rollforward': getReportRollforward,
  'get-report-waterfall': getReportWaterfall,
  'get-report-trial-balance': getReportTrialBalance,
  'get-journal-export': getJournalExport,
  'list-periods': listPeriods,
  'freeze-period': freezePeriod,
  'close-period': closePeriod,
  'reopen-period': reopenPeriod,
  'put-fx-rates': putFxRates,
  'list-fx-rates': listFxRates,
  'record-disbursement': recordDisbursement,
  'list-reconciliations': listReconciliations,
  'get-reconciliation': getReconciliation,
  'list-reconciliation-items': listReconciliationItems,
  'approve-true-up': approveTrueUp,
});
