/**
 * `agora partners …`, `agora registrations …`, `agora touches add`, `agora plans …` and
 * `agora attribution explain|versions|models|add-model`: the partner side through the running
 * stack's API. Money in the text output is formatted; `--json` prints the API's document.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type CommissionReport, commissionReportCsv } from '../../domain/commission/report';
import { formatMajorAmount } from '../../domain/money';
import { CliError, type CliIo, EXIT_PROBLEMS, EXIT_USAGE, emit } from '../output';
import { stackApi } from '../stack-api';

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(EXIT_USAGE, 'invalid_file', `${file}: ${(error as Error).message}`);
  }
}

interface PartnerLike {
  partnerId: string;
  legalName: string;
  type: string;
  status: string;
  payoutCurrency: string;
  tierHistory: { tier: string; effectiveFrom: string }[];
}

function describePartner(p: PartnerLike): string {
  const tier = p.tierHistory.at(-1);
  return `${p.partnerId}  ${p.legalName}  ${p.type}  tier ${tier?.tier ?? '-'} (from ${tier?.effectiveFrom ?? '-'})  ${p.payoutCurrency}  ${p.status}`;
}

interface RegistrationLike {
  registrationId: string;
  partnerId: string;
  customer: { name: string };
  productId: string;
  effectiveStatus: string;
  expiresOn: string;
  conflicts: { code: string; reason: string }[];
}

function describeRegistration(r: RegistrationLike): string {
  return [
    `${r.registrationId}  ${r.partnerId}  ${r.customer.name} / ${r.productId}  ${r.effectiveStatus} (until ${r.expiresOn})`,
    ...r.conflicts.map((c) => `  ${c.code}: ${c.reason}`),
  ].join('\n');
}

/** "1/3" → "33.3333%": display only (the stored weight is the exact fraction). */
function percent(fraction: string): string {
  const [num = '0', den = '1'] = fraction.split('/');
  const scaled = (BigInt(num) * 1_000_000n) / BigInt(den);
  const text = scaled.toString().padStart(5, '0');
  return `${text.slice(0, -4)}.${text.slice(-4)}%`;
}

interface CommissionReportLike {
  from: string;
  to: string;
  currency: string;
  rows: {
    partnerId: string;
    period: string;
    tier: string;
    sourcedRevenueMinor: string;
    influencedRevenueMinor: string;
    resaleRevenueMinor: string;
    earnedMinor: string;
    clawedBackMinor: string;
    expenseMinor: string;
    paidMinor: string;
    payableMinor: string;
    heldMinor: string;
  }[];
}

/** One line per partner and month, major units, then the formula's reminder. */
function describeCommissionReport(report: CommissionReportLike): string {
  const money = (v: string) => formatMajorAmount(BigInt(v), report.currency).padStart(14);
  const header = `${'partner'.padEnd(16)} ${'month'.padEnd(7)} ${'tier'.padEnd(10)}${[
    'sourced',
    'influenced',
    'resale',
    'earned',
    'clawed back',
    'expense',
    'paid',
    'payable',
    'held',
  ]
    .map((c) => c.padStart(15))
    .join('')}`;
  if (report.rows.length === 0)
    return `partner commission ${report.from}..${report.to}: no commission runs in this range`;
  return [
    `partner commission ${report.from}..${report.to} (${report.currency})`,
    header,
    ...report.rows.map(
      (r) =>
        `${r.partnerId.padEnd(16)} ${r.period.padEnd(7)} ${r.tier.padEnd(10)}${[
          r.sourcedRevenueMinor,
          r.influencedRevenueMinor,
          r.resaleRevenueMinor,
          r.earnedMinor,
          r.clawedBackMinor,
          r.expenseMinor,
          r.paidMinor,
          r.payableMinor,
          r.heldMinor,
        ]
          .map((v) => ` ${money(v)}`)
          .join('')}`,
    ),
  ].join('\n');
}

interface RunLike {
  period: string;
  currency: string;
  planId: string;
  planVersion: number | null;
  partnersProcessed: number;
  lines: number;
  entriesPosted: number;
  entriesAlreadyPosted: number;
  problemCount: number;
  problems: { code: string; message: string; partnerId?: string; contractId?: string }[];
  totals: {
    earnedMinor: string;
    clawedBackMinor: string;
    heldMinor: string;
    payableMinor: string;
    paidMinor: string;
  };
}

interface PlanLike {
  planId: string;
  version: number;
  effectiveFrom: string;
  basis: string;
  rateTable: {
    tier: string;
    dealType: string;
    product?: string;
    ratePercent?: string;
    rateBps?: number;
  }[];
}

interface ExplanationLike {
  contractId: string;
  attribution: {
    version: number;
    rule: { modelId: string; version: number; model: { kind: string } };
    closeAt: string;
    dealCredit: string;
    touches: {
      partnerId: string;
      role: string;
      milestone: string | null;
      at: string;
      source: string;
      weight: string;
    }[];
    shares: { partnerId: string; weight: string }[];
    fallback: { reason: string } | null;
    diff: { model: { from: string; to: string } | null; added: string[]; removed: string[] } | null;
  } | null;
  split: {
    currency: string;
    totalMinor: string;
    shares: { partnerId: string; amountMinor: string }[];
  };
}

function describeExplanation(e: ExplanationLike): string {
  const a = e.attribution;
  if (!a) return `${e.contractId}: no partner touches — unattributed`;
  const amounts = new Map(e.split.shares.map((s) => [s.partnerId, s.amountMinor]));
  return [
    `${e.contractId}  attribution v${a.version}  model ${a.rule.modelId}@v${a.rule.version} (${a.rule.model.kind})  closed ${a.closeAt}  ${a.dealCredit}`,
    'touches:',
    ...a.touches.map(
      (t) =>
        `  ${t.at}  ${t.partnerId}  ${t.role}${t.milestone ? ` ${t.milestone}` : ''}  via ${t.source}  weight ${percent(t.weight)}`,
    ),
    `split of ${formatMajorAmount(BigInt(e.split.totalMinor), e.split.currency)} ${e.split.currency}:`,
    ...a.shares.map(
      (s) =>
        `  ${s.partnerId}  ${percent(s.weight)}  ${formatMajorAmount(BigInt(amounts.get(s.partnerId) ?? '0'), e.split.currency)}`,
    ),
    ...(a.fallback ? [`note: ${a.fallback.reason}`] : []),
    ...(a.diff
      ? [
          `changed from the previous version:${a.diff.model ? ` model ${a.diff.model.from} → ${a.diff.model.to}` : ''}${a.diff.added.length ? ` added ${a.diff.added.join(', ')}` : ''}${a.diff.removed.length ? ` removed ${a.diff.removed.join(', ')}` : ''}`,
        ]
      : []),
  ].join('\n');
}

export function registerPartnerCommands(
  program: Command,
  io: () => CliIo,
  setExitCode: (code: number) => void,
): void {
  const partners = program
    .command('partners')
    .description('The partner registry on the running stack');
  partners
    .command('list')
    .description('Every partner')
    .action(async () => {
      const result = await stackApi('GET', '/v1/partners?limit=100', undefined, 'finance');
      const items = (result.body.items ?? []) as PartnerLike[];
      emit(
        io(),
        result.body,
        items.length === 0 ? 'no partners' : items.map(describePartner).join('\n'),
      );
    });
  partners
    .command('show')
    .argument('<partnerId>')
    .action(async (partnerId: string) => {
      const result = await stackApi(
        'GET',
        `/v1/partners/${encodeURIComponent(partnerId)}`,
        undefined,
        'finance',
      );
      emit(io(), result.body, describePartner(result.body as unknown as PartnerLike));
    });
  partners
    .command('create')
    .argument(
      '<file>',
      'JSON: {partnerId, legalName, type, tier, payoutCurrency, statementContacts?, marketplaceAccounts?}',
    )
    .action(async (file: string) => {
      const result = await stackApi('POST', '/v1/partners', readJson(file), 'admin', {
        'idempotency-key': randomUUID(),
      });
      emit(io(), result.body, `created ${describePartner(result.body as unknown as PartnerLike)}`);
    });
  partners
    .command('set-tier')
    .argument('<partnerId>')
    .argument('<tier>')
    .option('--from <date>', 'first day of the new tier (default today)')
    .action(async (partnerId: string, tier: string, options: { from?: string }) => {
      const effectiveFrom = options.from ?? new Date().toISOString().slice(0, 10);
      const result = await stackApi(
        'PATCH',
        `/v1/partners/${encodeURIComponent(partnerId)}`,
        { tier: { tier, effectiveFrom } },
        'admin',
      );
      emit(io(), result.body, describePartner(result.body as unknown as PartnerLike));
    });

  const registrations = program
    .command('registrations')
    .description('Deal registrations on the running stack');
  registrations
    .command('submit')
    .argument(
      '<file>',
      'JSON: {partnerId, customer{name, marketplace?, accountId?}, productId, expectedValue{amountMinor, currency}}',
    )
    .action(async (file: string) => {
      const result = await stackApi('POST', '/v1/deal-registrations', readJson(file), 'admin', {
        'idempotency-key': randomUUID(),
      });
      emit(io(), result.body, describeRegistration(result.body as unknown as RegistrationLike));
    });
  registrations
    .command('list')
    .option('--partner <partnerId>')
    .option('--status <status>', 'approved | pending-review | rejected | expired')
    .action(async (options: { partner?: string; status?: string }) => {
      const query = new URLSearchParams({ limit: '100' });
      if (options.partner) query.set('partnerId', options.partner);
      if (options.status) query.set('status', options.status);
      const result = await stackApi('GET', `/v1/deal-registrations?${query}`, undefined, 'finance');
      const items = (result.body.items ?? []) as RegistrationLike[];
      emit(
        io(),
        result.body,
        items.length === 0 ? 'no registrations' : items.map(describeRegistration).join('\n'),
      );
    });
  for (const decision of ['approve', 'reject'] as const)
    registrations
      .command(decision)
      .argument('<registrationId>')
      .option('--reason <text>')
      .action(async (registrationId: string, options: { reason?: string }) => {
        const result = await stackApi(
          'POST',
          `/v1/deal-registrations/${encodeURIComponent(registrationId)}/decision`,
          {
            decision: decision === 'approve' ? 'approved' : 'rejected',
            reason: options.reason ?? null,
          },
          'admin',
        );
        emit(io(), result.body, describeRegistration(result.body as unknown as RegistrationLike));
      });

  program
    .command('touches')
    .description('Partner touches on the running stack')
    .command('add')
    .argument(
      '<file>',
      'JSON: {partnerId, role, milestone?, at, source: co-sell-referral|activity, contractId?|offerId?|opportunityId?|customer?}',
    )
    .action(async (file: string) => {
      const result = await stackApi('POST', '/v1/touches', readJson(file), 'admin');
      const t = result.body as { touchId: string; partnerId: string; role: string };
      emit(
        io(),
        result.body,
        `${result.status === 201 ? 'recorded' : 'already recorded'} ${t.touchId} (${t.partnerId}, ${t.role})`,
      );
    });

  const plans = program
    .command('plans')
    .description('Commission plans (versioned) on the running stack');
  plans
    .command('list')
    .description('Every plan with its newest version')
    .action(async () => {
      const result = await stackApi('GET', '/v1/commission-plans', undefined, 'finance');
      const items = (result.body.items ?? []) as PlanLike[];
      emit(
        io(),
        result.body,
        items.length === 0
          ? 'no commission plans'
          : items
              .map((p) => `${p.planId}@v${p.version}  from ${p.effectiveFrom}  basis ${p.basis}`)
              .join('\n'),
      );
    });
  plans
    .command('show')
    .argument('<planId>')
    .description('Every version of a plan, newest first')
    .action(async (planId: string) => {
      const result = await stackApi(
        'GET',
        `/v1/commission-plans/${encodeURIComponent(planId)}`,
        undefined,
        'finance',
      );
      const versions = (result.body.versions ?? []) as PlanLike[];
      const rate = (r: PlanLike['rateTable'][number]) =>
        r.ratePercent !== undefined ? `${r.ratePercent} %` : `${r.rateBps ?? 0} bps`;
      emit(
        io(),
        result.body,
        versions
          .map((v) =>
            [
              `${planId}@v${v.version}  from ${v.effectiveFrom}  basis ${v.basis}`,
              ...v.rateTable.map(
                (r) => `  ${r.tier} ${r.dealType}${r.product ? ` ${r.product}` : ''}: ${rate(r)}`,
              ),
            ].join('\n'),
          )
          .join('\n'),
      );
    });
  plans
    .command('add')
    .argument(
      '<file>',
      'JSON: a CommissionPlan without its version (planId, effectiveFrom, currency, rateTable, …)',
    )
    .description('Add the next version of a plan (never an overwrite)')
    .action(async (file: string) => {
      const result = await stackApi('POST', '/v1/commission-plans', readJson(file), 'admin', {
        'idempotency-key': randomUUID(),
      });
      const plan = result.body as unknown as PlanLike;
      emit(io(), result.body, `added ${plan.planId}@v${plan.version}`);
    });

  const commission = program
    .command('commission')
    .description('Partner commission on the running stack');
  commission
    .command('run')
    .requiredOption('--period <YYYY-MM>', 'the month that ended')
    .description('Run commission for an ended month (a rerun posts nothing new)')
    .action(async (options: { period: string }) => {
      if (!/^\d{4}-\d{2}$/.test(options.period))
        throw new CliError(EXIT_USAGE, 'invalid_period', '--period is a month: YYYY-MM');
      const result = await stackApi(
        'POST',
        '/v1/commission-runs',
        { period: options.period },
        'finance',
        {
          'idempotency-key': randomUUID(),
        },
      );
      const s = result.body as unknown as RunLike;
      const money = (v: string) => `${formatMajorAmount(BigInt(v), s.currency)} ${s.currency}`;
      emit(
        io(),
        result.body,
        [
          `commission ${s.period}  plan ${s.planId}${s.planVersion ? `@v${s.planVersion}` : ' (none in effect)'}`,
          `  ${s.partnersProcessed} partners, ${s.lines} lines, ${s.entriesPosted} entries posted (${s.entriesAlreadyPosted} already posted)`,
          `  earned ${money(s.totals.earnedMinor)}  clawed back ${money(s.totals.clawedBackMinor)}  held ${money(s.totals.heldMinor)}  payable ${money(s.totals.payableMinor)}  paid ${money(s.totals.paidMinor)}`,
          ...s.problems.map(
            (p) =>
              `  problem ${p.code}${p.partnerId ? ` (${p.partnerId})` : ''}${p.contractId ? ` (${p.contractId})` : ''}: ${p.message}`,
          ),
        ].join('\n'),
      );
      if (s.problemCount > 0) setExitCode(EXIT_PROBLEMS);
    });
  commission
    .command('report')
    .requiredOption('--from <YYYY-MM>', 'first month')
    .requiredOption('--to <YYYY-MM>', 'last month')
    .option('--partner <partnerId>', 'one partner only')
    .option('--csv', 'print CSV (one row per partner and month, minor units)')
    .description(
      'Partner-sourced vs influenced revenue, commission expense, payable and held, per partner and month',
    )
    .action(async (options: { from: string; to: string; partner?: string; csv?: boolean }) => {
      for (const [name, value] of [
        ['--from', options.from],
        ['--to', options.to],
      ] as const) {
        if (!/^\d{4}-\d{2}$/.test(value))
          throw new CliError(EXIT_USAGE, 'invalid_period', `${name} is a month: YYYY-MM`);
      }
      const out = io();
      if (options.csv && out.json)
        throw new CliError(
          EXIT_USAGE,
          'conflicting_options',
          'Use either --json or --csv, not both',
        );
      const query = new URLSearchParams({ from: options.from, to: options.to });
      if (options.partner) query.set('partnerId', options.partner);
      const result = await stackApi(
        'GET',
        `/v1/reports/partner-commission?${query.toString()}`,
        undefined,
        'finance',
      );
      const report = result.body as unknown as CommissionReportLike;
      if (options.csv) {
        // Amounts arrive as decimal strings of minor units: written as they are.
        out.stdout(commissionReportCsv(report as unknown as CommissionReport).trimEnd());
        return;
      }
      emit(out, result.body, describeCommissionReport(report));
    });

  const attribution = program
    .command('attribution')
    .description('Co-sell attribution of contracts');
  attribution
    .command('explain')
    .argument('<contractId>')
    .option('--recompute', 'recompute first (a new version only when something changed)')
    .description('Touches, weights and the split of the contract’s latest attribution')
    .action(async (contractId: string, options: { recompute?: boolean }) => {
      const result = await stackApi(
        options.recompute ? 'POST' : 'GET',
        `/v1/contracts/${encodeURIComponent(contractId)}/attribution`,
        undefined,
        options.recompute ? 'finance' : 'seller',
      );
      emit(io(), result.body, describeExplanation(result.body as unknown as ExplanationLike));
    });
  attribution
    .command('models')
    .description('Versions of the attribution model in use')
    .action(async () => {
      const result = await stackApi('GET', '/v1/attribution-models', undefined, 'finance');
      const versions = (result.body.versions ?? []) as {
        version: number;
        effectiveFrom: string;
        model: { kind: string };
      }[];
      emit(
        io(),
        result.body,
        versions
          .map(
            (v) =>
              `${String(result.body.modelId)}@v${v.version}  from ${v.effectiveFrom}  ${v.model.kind}`,
          )
          .join('\n'),
      );
    });
  attribution
    .command('add-model')
    .argument('<file>', 'JSON: {modelId, effectiveFrom, model{kind, …}, description?}')
    .description('Add the next version of a model (never an overwrite)')
    .action(async (file: string) => {
      const result = await stackApi('POST', '/v1/attribution-models', readJson(file), 'admin', {
        'idempotency-key': randomUUID(),
      });
      const rule = result.body as { modelId: string; version: number; model: { kind: string } };
      emit(io(), result.body, `added ${rule.modelId}@v${rule.version} (${rule.model.kind})`);
    });
}
