// Proves the AWS Catalog change sets built from an offer document: change order, every details document of full examples, schedule/usage/dates variants, and a resale authorization whose wholesale totals and installments are exact for any split.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addRational,
  multiplyRational,
  parseDecimal,
  parseMajorAmount,
  rational,
} from '../../../../lib/domain/money';
import {
  type OfferDocument,
  type OfferDocumentInput,
  OfferDocumentSchema,
} from '../../../../lib/domain/offers/offer-document';
import { offerRuleViolations } from '../../../../lib/domain/offers/rules';
import {
  AWS_STANDARD_EULA_LATEST,
  agreementDurationOf,
  awsWholesaleTerms,
  buildAwsOfferChangeSet,
  buildAwsResaleAuthorizationChangeSet,
  formatResaleUnitPrice,
} from '../../../../lib/marketplaces/aws/offer-change-set';

const OFFER = { Type: 'Offer@1.0', Identifier: '$CreateOfferChange.Entity.Identifier' };
const RESALE = {
  Type: 'ResaleAuthorization@1.0',
  Identifier: '$CreateResaleAuthorizationChange.Entity.Identifier',
};

function baseInput(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'aws',
    productId: 'prod-2pexampleproduct01',
    name: 'Acme Corp - 12 month enterprise',
    description: 'CRM deal 0061x000ABC',
    buyers: [{ accountId: '444455556666' }, { accountId: '111122223333' }],
    pricing: {
      currency: 'USD',
      upfront: [
        { dimension: 'enterprise_seats', priceMinor: '24000', quantity: 250 },
        { dimension: 'admins', priceMinor: '100000', quantity: 2 },
      ],
      usageRates: [{ dimension: 'api_calls_overage', unitPrice: '0.0020' }],
    },
    // Out of date order on purpose: the change set sorts it.
    paymentSchedule: [
      { date: '2026-09-15', amountMinor: '3100000' },
      { date: '2026-03-15', amountMinor: '3100000' },
    ],
    term: { durationMonths: 12 },
    expiresOn: '2026-03-31',
    legal: { type: 'standard', version: AWS_STANDARD_EULA_LATEST },
  };
}

function docWith(change: (input: OfferDocumentInput) => void = () => {}): OfferDocument {
  const input = baseInput();
  change(input);
  const doc = OfferDocumentSchema.parse(input);
  // The builders take valid documents: keep every example valid.
  expect(offerRuleViolations(doc, { today: '2026-03-01' })).toEqual([]);
  return doc;
}

function details(changes: { ChangeType: string; DetailsDocument: unknown }[], type: string) {
  return changes.find((c) => c.ChangeType === type)?.DetailsDocument;
}

describe('buildAwsOfferChangeSet', () => {
  it('builds every change of a private offer with a payment schedule and usage', () => {
    expect(buildAwsOfferChangeSet(docWith())).toEqual([
      {
        ChangeType: 'CreateOffer',
        ChangeName: 'CreateOfferChange',
        Entity: { Type: 'Offer@1.0' },
        DetailsDocument: {
          ProductId: 'prod-2pexampleproduct01',
          Name: 'Acme Corp - 12 month enterprise',
        },
      },
      {
        ChangeType: 'UpdateInformation',
        Entity: OFFER,
        DetailsDocument: {
          Name: 'Acme Corp - 12 month enterprise',
          Description: 'CRM deal 0061x000ABC',
        },
      },
      {
        ChangeType: 'UpdateTargeting',
        Entity: OFFER,
        DetailsDocument: {
          PositiveTargeting: { BuyerAccounts: ['444455556666', '111122223333'] },
        },
      },
      {
        ChangeType: 'UpdatePricingTerms',
        Entity: OFFER,
        DetailsDocument: {
          PricingModel: 'Contract',
          Terms: [
            {
              Type: 'FixedUpfrontPricingTerm',
              CurrencyCode: 'USD',
              Price: '0.00',
              Duration: 'P12M',
              Grants: [
                { DimensionKey: 'enterprise_seats', MaxQuantity: 250 },
                { DimensionKey: 'admins', MaxQuantity: 2 },
              ],
            },
            {
              Type: 'UsageBasedPricingTerm',
              CurrencyCode: 'USD',
              RateCards: [{ RateCard: [{ DimensionKey: 'api_calls_overage', Price: '0.002' }] }],
            },
          ],
        },
      },
      {
        ChangeType: 'UpdatePaymentScheduleTerms',
        Entity: OFFER,
        DetailsDocument: {
          Terms: [
            {
              Type: 'PaymentScheduleTerm',
              CurrencyCode: 'USD',
              Schedule: [
                { ChargeDate: '2026-03-15', ChargeAmount: '31000.00' },
                { ChargeDate: '2026-09-15', ChargeAmount: '31000.00' },
              ],
            },
          ],
        },
      },
      {
        ChangeType: 'UpdateValidityTerms',
        Entity: OFFER,
        DetailsDocument: { Terms: [{ Type: 'ValidityTerm', AgreementDuration: 'P12M' }] },
      },
      {
        ChangeType: 'UpdateAvailability',
        Entity: OFFER,
        DetailsDocument: { AvailabilityEndDate: '2026-03-31' },
      },
      {
        ChangeType: 'UpdateLegalTerms',
        Entity: OFFER,
        DetailsDocument: {
          Terms: [
            { Type: 'LegalTerm', Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }] },
          ],
        },
      },
      { ChangeType: 'ReleaseOffer', Entity: OFFER, DetailsDocument: {} },
    ]);
  });

  it('prices upfront dimensions on a configurable rate card when there is no schedule', () => {
    const changes = buildAwsOfferChangeSet(
      docWith((d) => {
        d.paymentSchedule = undefined;
        d.description = undefined;
      }),
    );
    expect(changes.map((c) => c.ChangeType)).toEqual([
      'CreateOffer',
      'UpdateInformation',
      'UpdateTargeting',
      'UpdatePricingTerms',
      'UpdateValidityTerms',
      'UpdateAvailability',
      'UpdateLegalTerms',
      'ReleaseOffer',
    ]);
    expect(details(changes, 'UpdateInformation')).toEqual({
      Name: 'Acme Corp - 12 month enterprise',
    });
    expect(details(changes, 'UpdatePricingTerms')).toEqual({
      PricingModel: 'Contract',
      Terms: [
        {
          Type: 'ConfigurableUpfrontPricingTerm',
          CurrencyCode: 'USD',
          RateCards: [
            {
              Selector: { Type: 'Duration', Value: 'P12M' },
              Constraints: {
                MultipleDimensionSelection: 'Allowed',
                QuantityConfiguration: 'Allowed',
              },
              RateCard: [
                { DimensionKey: 'enterprise_seats', Price: '240.00' },
                { DimensionKey: 'admins', Price: '1000.00' },
              ],
            },
          ],
        },
        {
          Type: 'UsageBasedPricingTerm',
          CurrencyCode: 'USD',
          RateCards: [{ RateCard: [{ DimensionKey: 'api_calls_overage', Price: '0.002' }] }],
        },
      ],
    });
  });

  it('builds a usage-only offer with normalized decimal prices', () => {
    const changes = buildAwsOfferChangeSet(
      docWith((d) => {
        d.pricing.upfront = [];
        d.pricing.usageRates = [
          { dimension: 'api_calls', unitPrice: '0.00150' },
          { dimension: 'gb_scanned', unitPrice: '+2.50' },
          { dimension: 'free_tier', unitPrice: '000' },
        ];
        d.paymentSchedule = undefined;
      }),
    );
    expect(changes.map((c) => c.ChangeType)).not.toContain('UpdatePaymentScheduleTerms');
    expect(details(changes, 'UpdatePricingTerms')).toEqual({
      PricingModel: 'Usage',
      Terms: [
        {
          Type: 'UsageBasedPricingTerm',
          CurrencyCode: 'USD',
          RateCards: [
            {
              RateCard: [
                { DimensionKey: 'api_calls', Price: '0.0015' },
                { DimensionKey: 'gb_scanned', Price: '2.5' },
                { DimensionKey: 'free_tier', Price: '0' },
              ],
            },
          ],
        },
      ],
    });
  });

  it('uses start and end dates, whole months or days, for a future-dated agreement', () => {
    const fixed = (endDate: string) =>
      docWith((d) => {
        d.term = { startDate: '2026-04-01', endDate };
        d.paymentSchedule = undefined;
      });
    const whole = buildAwsOfferChangeSet(fixed('2027-03-31'));
    expect(details(whole, 'UpdateValidityTerms')).toEqual({
      Terms: [
        { Type: 'ValidityTerm', AgreementStartDate: '2026-04-01', AgreementEndDate: '2027-03-31' },
      ],
    });
    expect(
      (details(whole, 'UpdatePricingTerms') as { Terms: { RateCards?: unknown[] }[] }).Terms[0]
        ?.RateCards?.[0],
    ).toEqual(expect.objectContaining({ Selector: { Type: 'Duration', Value: 'P12M' } }));
    // 2026-04-01 through 2026-05-15 is 45 days, not whole months.
    expect(agreementDurationOf(fixed('2026-05-15'))).toBe('P45D');
    expect(agreementDurationOf(fixed('2026-04-30'))).toBe('P1M');
    const clamped = docWith((d) => {
      d.expiresOn = '2026-03-20';
      d.term = { startDate: '2026-03-31', endDate: '2026-04-29' };
      d.paymentSchedule = undefined;
    });
    // 31 March plus one month is 30 April (clamped), so 31 March through 29 April is P1M.
    expect(agreementDurationOf(clamped)).toBe('P1M');
    // A duration with a future start date keeps both.
    const startingLater = docWith((d) => {
      d.term = { durationMonths: 24, startDate: '2026-06-01' };
      d.paymentSchedule = undefined;
    });
    expect(details(buildAwsOfferChangeSet(startingLater), 'UpdateValidityTerms')).toEqual({
      Terms: [
        { Type: 'ValidityTerm', AgreementStartDate: '2026-06-01', AgreementDuration: 'P24M' },
      ],
    });
  });

  it('sends a custom EULA by URL and formats zero-decimal currencies', () => {
    const changes = buildAwsOfferChangeSet(
      docWith((d) => {
        d.legal = { type: 'custom', url: 'https://bucket.s3.amazonaws.com/eula.pdf' };
        d.pricing.currency = 'JPY';
        d.pricing.usageRates = [];
        d.paymentSchedule = [
          { date: '2026-03-15', amountMinor: '3100000' },
          { date: '2026-09-15', amountMinor: '3100000' },
        ];
      }),
    );
    expect(details(changes, 'UpdateLegalTerms')).toEqual({
      Terms: [
        {
          Type: 'LegalTerm',
          Documents: [{ Type: 'CustomEula', Url: 'https://bucket.s3.amazonaws.com/eula.pdf' }],
        },
      ],
    });
    expect(details(changes, 'UpdatePaymentScheduleTerms')).toEqual({
      Terms: [
        {
          Type: 'PaymentScheduleTerm',
          CurrencyCode: 'JPY',
          Schedule: [
            { ChargeDate: '2026-03-15', ChargeAmount: '3100000' },
            { ChargeDate: '2026-09-15', ChargeAmount: '3100000' },
          ],
        },
      ],
    });
    expect(
      (details(changes, 'UpdatePricingTerms') as { Terms: { Price?: string }[] }).Terms[0]?.Price,
    ).toBe('0');
  });

  it('refuses documents it cannot turn into an AWS change set', () => {
    const azure = OfferDocumentSchema.parse({ ...baseInput(), marketplace: 'azure' });
    expect(() => buildAwsOfferChangeSet(azure)).toThrow(/AWS offer document/);
    const noTerm = OfferDocumentSchema.parse({ ...baseInput(), term: {} });
    expect(() => buildAwsOfferChangeSet(noTerm)).toThrow(/term/);
    expect(() => buildAwsResaleAuthorizationChangeSet(docWith())).toThrow(/reseller/);
  });
});

describe('buildAwsResaleAuthorizationChangeSet', () => {
  const resold = (
    reseller: Partial<NonNullable<OfferDocumentInput['reseller']>>,
    change: (d: OfferDocumentInput) => void = () => {},
  ) =>
    docWith((d) => {
      d.reseller = {
        partnerAccountId: '777788889999',
        use: 'single-use',
        expiresOn: '2026-03-10',
        ...reseller,
      };
      change(d);
    });

  it('builds every change of a time-bound resale authorization at a discount', () => {
    const doc = resold({ discountPercent: '15', use: 'time-bound' }, (d) => {
      d.paymentSchedule = undefined;
    });
    expect(buildAwsResaleAuthorizationChangeSet(doc)).toEqual([
      {
        ChangeType: 'CreateResaleAuthorization',
        ChangeName: 'CreateResaleAuthorizationChange',
        Entity: { Type: 'ResaleAuthorization@1.0' },
        DetailsDocument: {
          ProductId: 'prod-2pexampleproduct01',
          Name: 'Acme Corp - 12 month enterprise',
          ResellerAccountId: '777788889999',
          Description: 'CRM deal 0061x000ABC',
        },
      },
      {
        ChangeType: 'UpdatePricingTerms',
        Entity: RESALE,
        DetailsDocument: {
          PricingModel: 'Contract',
          Terms: [
            {
              Type: 'ResaleConfigurableUpfrontPricingTerm',
              CurrencyCode: 'USD',
              RateCards: [
                {
                  Selector: { Type: 'Duration', Value: 'P12M' },
                  Constraints: {
                    MultipleDimensionSelection: 'Allowed',
                    QuantityConfiguration: 'Allowed',
                  },
                  RateCard: [
                    { DimensionKey: 'enterprise_seats', Price: '204.00' },
                    { DimensionKey: 'admins', Price: '850.00' },
                  ],
                },
              ],
            },
            {
              Type: 'ResaleUsageBasedPricingTerm',
              CurrencyCode: 'USD',
              RateCards: [{ RateCard: [{ DimensionKey: 'api_calls_overage', Price: '0.0017' }] }],
            },
          ],
        },
      },
      {
        ChangeType: 'UpdateBuyerTargetingTerms',
        Entity: RESALE,
        DetailsDocument: {
          Terms: [
            {
              Type: 'BuyerTargetingTerm',
              PositiveTargeting: { BuyerAccounts: ['444455556666', '111122223333'] },
            },
          ],
        },
      },
      {
        ChangeType: 'UpdateAvailability',
        Entity: RESALE,
        DetailsDocument: { AvailabilityEndDate: '2026-03-10' },
      },
      {
        ChangeType: 'UpdateLegalTerms',
        Entity: RESALE,
        DetailsDocument: {
          Terms: [
            {
              Type: 'BuyerLegalTerm',
              Documents: [{ Type: 'StandardEula', Version: '2022-07-14' }],
            },
          ],
        },
      },
      { ChangeType: 'ReleaseResaleAuthorization', Entity: RESALE, DetailsDocument: {} },
    ]);
  });

  it('builds a single-use authorization with an exactly scaled wholesale schedule', () => {
    // 50,000.01 USD wholesale for 62,000.00: each 31,000.00 installment scales to 25,000.005.
    const doc = resold({ wholesalePriceMinor: '5000001' });
    const changes = buildAwsResaleAuthorizationChangeSet(doc);
    expect(changes.map((c) => c.ChangeType)).toEqual([
      'CreateResaleAuthorization',
      'UpdatePricingTerms',
      'UpdatePaymentScheduleTerms',
      'UpdateBuyerTargetingTerms',
      'UpdateAvailability',
      'UpdateLegalTerms',
      'ReleaseResaleAuthorization',
    ]);
    expect(details(changes, 'UpdatePricingTerms')).toEqual({
      PricingModel: 'Contract',
      Terms: [
        {
          Type: 'ResaleFixedUpfrontPricingTerm',
          CurrencyCode: 'USD',
          Price: '0.00',
          Duration: 'P12M',
          Grants: [
            { DimensionKey: 'enterprise_seats', MaxQuantity: 250 },
            { DimensionKey: 'admins', MaxQuantity: 2 },
          ],
        },
        {
          Type: 'ResaleUsageBasedPricingTerm',
          CurrencyCode: 'USD',
          RateCards: [{ RateCard: [{ DimensionKey: 'api_calls_overage', Price: '0.002' }] }],
        },
      ],
    });
    // The half-cent tie goes to the earlier installment.
    expect(details(changes, 'UpdatePaymentScheduleTerms')).toEqual({
      Terms: [
        {
          Type: 'ResalePaymentScheduleTerm',
          CurrencyCode: 'USD',
          Schedule: [
            { ChargeDate: '2026-03-15', ChargeAmount: '25000.01' },
            { ChargeDate: '2026-09-15', ChargeAmount: '25000.00' },
          ],
        },
      ],
    });
    expect(details(changes, 'UpdateAvailability')).toEqual({
      AvailabilityEndDate: '2026-03-10',
      OffersMaxQuantity: 1,
    });
  });

  it('splits a wholesale price across dimensions by value, exactly, then per unit', () => {
    const doc = resold({ wholesalePriceMinor: '5000001', use: 'time-bound' }, (d) => {
      d.paymentSchedule = undefined;
    });
    const terms = awsWholesaleTerms(doc);
    // 5,000,001 × 6,000,000 / 6,200,000 = 4,838,710.65 → 4,838,711 (largest remainder).
    expect(terms.dimensions.map((x) => x.totalMinor)).toEqual([4838711n, 161290n]);
    expect(terms.totalMinor).toBe(5000001n);
    const rateCard = (
      details(buildAwsResaleAuthorizationChangeSet(doc), 'UpdatePricingTerms') as {
        Terms: { RateCards?: { RateCard: unknown }[] }[];
      }
    ).Terms[0]?.RateCards?.[0]?.RateCard;
    expect(rateCard).toEqual([
      { DimensionKey: 'enterprise_seats', Price: '193.54844' },
      { DimensionKey: 'admins', Price: '806.45' },
    ]);
  });

  it('rounds discounted unit prices half-even to minor units', () => {
    const doc = resold({ discountPercent: '10' }, (d) => {
      d.pricing.upfront = [
        { dimension: 'a', priceMinor: '125', quantity: 3 },
        { dimension: 'b', priceMinor: '135', quantity: 1 },
      ];
      d.pricing.usageRates = [{ dimension: 'u', unitPrice: '0.000000015' }];
      d.paymentSchedule = [{ date: '2026-03-20', amountMinor: '510' }];
    });
    const terms = awsWholesaleTerms(doc);
    // 112.5 → 112 (even), 121.5 → 122 (even); usage 0.0000000135 → 8 decimals, half-even.
    expect(terms.dimensions.map((x) => x.unitPriceMinor)).toEqual([rational(112n), rational(122n)]);
    expect(terms.totalMinor).toBe(112n * 3n + 122n);
    expect(terms.schedule).toEqual([{ date: '2026-03-20', amountMinor: 458n }]);
    expect(terms.usageRates).toEqual([{ dimension: 'u', price: '0.00000001' }]);
  });

  it('formats unit prices exactly, or to 6 decimals half-even when they do not terminate', () => {
    expect(formatResaleUnitPrice(rational(80645n), 'USD')).toBe('806.45');
    expect(formatResaleUnitPrice(rational(4838711n, 250n), 'USD')).toBe('193.54844');
    expect(formatResaleUnitPrice(rational(1n, 3n), 'USD')).toBe('0.003333');
    expect(formatResaleUnitPrice(rational(7n, 2n), 'JPY')).toBe('3.5');
  });

  it('keeps wholesale totals and installments exact for any awkward split', () => {
    const dimensionArb = fc.record({
      price: fc.bigInt({ min: 0n, max: 10n ** 7n }),
      quantity: fc.integer({ min: 1, max: 997 }),
    });
    fc.assert(
      fc.property(
        fc.array(dimensionArb, { minLength: 1, maxLength: 6 }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 6n }), { minLength: 1, maxLength: 12 }),
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.integer({ min: 1, max: 9_999 }),
        (dims, weights, wholesaleSeed, discountBp) => {
          const value = dims.reduce((s, d) => s + d.price * BigInt(d.quantity), 0n);
          fc.pre(value > 0n);
          // Installments proportional to the random weights, summing to the upfront value.
          const weightTotal = weights.reduce((a, b) => a + b, 0n);
          let remaining = value;
          const amounts = weights.map((w, i) => {
            const amount = i === weights.length - 1 ? remaining : (value * w) / weightTotal;
            remaining -= amount;
            return amount;
          });
          fc.pre(amounts.every((a) => a > 0n));
          const wholesale = wholesaleSeed % value;
          const discount = `${Math.floor(discountBp / 100)}.${String(discountBp % 100).padStart(2, '0')}`;
          for (const reseller of [
            { wholesalePriceMinor: wholesale.toString() },
            { discountPercent: discount },
          ]) {
            const doc = OfferDocumentSchema.parse({
              ...baseInput(),
              pricing: {
                currency: 'USD',
                upfront: dims.map((d, i) => ({
                  dimension: `dim_${i}`,
                  priceMinor: d.price.toString(),
                  quantity: d.quantity,
                })),
                usageRates: [],
              },
              term: { durationMonths: 60 },
              paymentSchedule: amounts.map((amountMinor, i) => ({
                date: `2026-${String(4 + (i % 9)).padStart(2, '0')}-${String(10 + Math.floor(i / 9)).padStart(2, '0')}`,
                amountMinor: amountMinor.toString(),
              })),
              reseller: {
                partnerAccountId: '777788889999',
                use: 'single-use',
                expiresOn: '2026-03-10',
                ...reseller,
              },
            });
            const terms = awsWholesaleTerms(doc);
            const total = terms.dimensions.reduce((s, d) => s + d.totalMinor, 0n);
            expect(total).toBe(terms.totalMinor);
            if ('wholesalePriceMinor' in reseller) expect(total).toBe(wholesale);
            for (const d of terms.dimensions) {
              expect(multiplyRational(d.unitPriceMinor, rational(BigInt(d.quantity)))).toEqual(
                rational(d.totalMinor),
              );
            }
            // Installments: same dates, sum exactly to the wholesale total, each within one
            // minor unit of its exact proportional share.
            expect(terms.schedule.reduce((s, c) => s + c.amountMinor, 0n)).toBe(terms.totalMinor);
            const sent =
              (
                details(
                  buildAwsResaleAuthorizationChangeSet(doc),
                  'UpdatePaymentScheduleTerms',
                ) as {
                  Terms: { Schedule: { ChargeAmount: string }[] }[];
                }
              ).Terms[0]?.Schedule ?? [];
            expect(sent.reduce((s, c) => s + parseMajorAmount(c.ChargeAmount, 'USD'), 0n)).toBe(
              terms.totalMinor,
            );
            const byDate = new Map(doc.paymentSchedule?.map((c) => [c.date, c.amountMinor]));
            for (const charge of terms.schedule) {
              const original = byDate.get(charge.date) ?? 0n;
              const exact = rational(original * terms.totalMinor, value);
              const error = addRational(exact, rational(-charge.amountMinor));
              expect(error.num < error.den && -error.num < error.den).toBe(true);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('prices usage at the discount and keeps the document prices with a wholesale price', () => {
    const discounted = awsWholesaleTerms(resold({ discountPercent: '12.5' }));
    expect(discounted.usageRates).toEqual([{ dimension: 'api_calls_overage', price: '0.00175' }]);
    expect(parseDecimal('0.00175')).toEqual(
      multiplyRational(parseDecimal('0.002'), rational(7n, 8n)),
    );
    const wholesale = awsWholesaleTerms(resold({ wholesalePriceMinor: '6000000' }));
    expect(wholesale.usageRates).toEqual([{ dimension: 'api_calls_overage', price: '0.002' }]);
  });
});
