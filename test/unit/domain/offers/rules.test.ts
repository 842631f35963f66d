// Proves the marketplace rules of an offer document on AWS, Azure and Google Cloud: every rule code rejects what it should, valid documents of each marketplace pass, all violations come at once, boundaries hold, and random valid schedules and ids pass while any off-by-one breaks them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, addMonths } from '../../../../lib/domain/calendar';
import {
  type OfferDocument,
  type OfferDocumentInput,
  OfferDocumentSchema,
} from '../../../../lib/domain/offers/offer-document';
import {
  AWS_BUYER_ACCOUNTS_MAX,
  AWS_STANDARD_EULA_LATEST,
  AZURE_BENEFICIARIES_MAX,
  AZURE_TERM_MONTHS,
  GCP_MONEY_DECIMALS_MAX,
  OFFER_RULE_CODES,
  type OfferRuleCode,
  offerRuleViolations,
  PAYMENT_SCHEDULE_CHARGES_MAX,
} from '../../../../lib/domain/offers/rules';

const TODAY = '2026-03-01';

/** A valid AWS private offer: 62,000.00 USD upfront in two installments, plus usage. */
function baseInput(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'aws',
    productId: 'prod-2pexampleproduct01',
    name: 'Acme Corp - 12 month enterprise',
    description: 'CRM deal 0061x000ABC',
    buyers: [{ accountId: '444455556666', name: 'Acme Corp' }],
    pricing: {
      currency: 'USD',
      upfront: [
        { dimension: 'enterprise_seats', priceMinor: '24000', quantity: 250 },
        { dimension: 'admins', priceMinor: '100000', quantity: 2 },
      ],
      usageRates: [{ dimension: 'api_calls_overage', unitPrice: '0.002' }],
    },
    paymentSchedule: [
      { date: '2026-03-15', amountMinor: '3100000' },
      { date: '2026-09-15', amountMinor: '3100000' },
    ],
    term: { durationMonths: 12 },
    expiresOn: '2026-03-31',
    legal: { type: 'standard', version: AWS_STANDARD_EULA_LATEST },
  };
}

function docWith(change: (input: OfferDocumentInput) => void): OfferDocument {
  const input = baseInput();
  change(input);
  return OfferDocumentSchema.parse(input);
}

function check(doc: OfferDocument, today = TODAY) {
  return offerRuleViolations(doc, { today });
}

function codes(doc: OfferDocument, today = TODAY): string[] {
  return check(doc, today).map((v) => v.code);
}

function accounts(count: number): { accountId: string }[] {
  return Array.from({ length: count }, (_, i) => ({ accountId: String(100000000000 + i) }));
}

const reseller = (
  overrides: Partial<NonNullable<OfferDocumentInput['reseller']>> = {},
): NonNullable<OfferDocumentInput['reseller']> => ({
  partnerAccountId: '777788889999',
  discountPercent: '15',
  use: 'single-use',
  expiresOn: '2026-03-10',
  ...overrides,
});

/** One rejecting document per rule code, with the path the violation must point at. */
const REJECTIONS: { code: OfferRuleCode; path: string; change: (d: OfferDocumentInput) => void }[] =
  [
    {
      code: 'expiry_in_past',
      path: 'expiresOn',
      change: (d) => {
        d.expiresOn = '2026-02-28';
      },
    },
    {
      code: 'term_required',
      path: 'term',
      change: (d) => {
        d.term = {};
      },
    },
    {
      code: 'term_ambiguous',
      path: 'term',
      change: (d) => {
        d.term = { durationMonths: 12, startDate: '2026-04-01', endDate: '2027-03-31' };
      },
    },
    {
      code: 'end_not_after_start',
      path: 'term.endDate',
      change: (d) => {
        d.term = { startDate: '2026-05-01', endDate: '2026-05-01' };
      },
    },
    {
      code: 'end_date_needs_future_start',
      path: 'term.startDate',
      change: (d) => {
        d.term = { endDate: '2027-03-31' };
      },
    },
    {
      code: 'start_in_past',
      path: 'term.startDate',
      change: (d) => {
        d.term = { startDate: TODAY, endDate: '2027-02-28' };
      },
    },
    {
      code: 'expiry_after_end',
      path: 'expiresOn',
      change: (d) => {
        d.term = { startDate: '2026-03-02', endDate: '2026-03-31' };
        d.paymentSchedule = undefined;
      },
    },
    {
      code: 'no_pricing',
      path: 'pricing',
      change: (d) => {
        d.pricing = { currency: 'USD', upfront: [], usageRates: [] };
        d.paymentSchedule = undefined;
      },
    },
    {
      code: 'duplicate_dimension',
      path: 'pricing.usageRates.1.dimension',
      change: (d) => {
        d.pricing.usageRates = [
          { dimension: 'api', unitPrice: '0.1' },
          { dimension: 'api', unitPrice: '0.2' },
        ];
      },
    },
    {
      code: 'negative_usage_rate',
      path: 'pricing.usageRates.0.unitPrice',
      change: (d) => {
        d.pricing.usageRates = [{ dimension: 'api', unitPrice: '-0.01' }];
      },
    },
    {
      code: 'schedule_without_upfront',
      path: 'paymentSchedule',
      change: (d) => {
        d.pricing.upfront = [];
      },
    },
    {
      code: 'duplicate_charge_dates',
      path: 'paymentSchedule.1.date',
      change: (d) => {
        d.paymentSchedule = [
          { date: '2026-03-15', amountMinor: '3100000' },
          { date: '2026-03-15', amountMinor: '3100000' },
        ];
      },
    },
    {
      code: 'zero_charge',
      path: 'paymentSchedule.2.amountMinor',
      change: (d) => {
        d.paymentSchedule?.push({ date: '2026-12-15', amountMinor: '0' });
      },
    },
    {
      code: 'schedule_sum_mismatch',
      path: 'paymentSchedule',
      change: (d) => {
        d.paymentSchedule = [
          { date: '2026-03-15', amountMinor: '3100000' },
          { date: '2026-09-15', amountMinor: '3099999' },
        ];
      },
    },
    {
      code: 'first_charge_after_expiry',
      path: 'paymentSchedule.1.date',
      change: (d) => {
        d.paymentSchedule = [
          { date: '2026-09-15', amountMinor: '3100000' },
          { date: '2026-04-15', amountMinor: '3100000' },
        ];
      },
    },
    {
      code: 'too_many_backdated_charges',
      path: 'paymentSchedule.0.date',
      change: (d) => {
        d.paymentSchedule = [
          { date: '2026-03-20', amountMinor: '3100000' },
          { date: '2026-03-10', amountMinor: '3100000' },
        ];
      },
    },
    {
      code: 'charge_after_end',
      path: 'paymentSchedule.1.date',
      // 12 months from the latest acceptance (2026-03-31) end before 2027-03-31.
      change: (d) => {
        d.paymentSchedule = [
          { date: '2026-03-15', amountMinor: '3100000' },
          { date: '2027-03-31', amountMinor: '3100000' },
        ];
      },
    },
    {
      code: 'too_many_charges',
      path: 'paymentSchedule',
      change: (d) => {
        d.term = { durationMonths: 120 };
        d.pricing.upfront = [{ dimension: 'seats', priceMinor: '61', quantity: 1 }];
        d.paymentSchedule = Array.from({ length: 61 }, (_, i) => ({
          date: addMonths('2026-03-31', i),
          amountMinor: '1',
        }));
      },
    },
    {
      code: 'wholesale_required',
      path: 'reseller',
      change: (d) => {
        d.reseller = reseller({ discountPercent: undefined });
      },
    },
    {
      code: 'wholesale_ambiguous',
      path: 'reseller',
      change: (d) => {
        d.reseller = reseller({ wholesalePriceMinor: '5000000' });
      },
    },
    {
      code: 'discount_out_of_range',
      path: 'reseller.discountPercent',
      change: (d) => {
        d.reseller = reseller({ discountPercent: '100' });
      },
    },
    {
      code: 'wholesale_not_below_price',
      path: 'reseller.wholesalePriceMinor',
      change: (d) => {
        d.reseller = reseller({ discountPercent: undefined, wholesalePriceMinor: '6200000' });
      },
    },
    {
      code: 'reseller_expiry_in_past',
      path: 'reseller.expiresOn',
      change: (d) => {
        d.reseller = reseller({ expiresOn: '2026-02-27' });
      },
    },
    {
      code: 'legal_version_outdated',
      path: 'legal.version',
      change: (d) => {
        d.legal = { type: 'standard', version: '2019-04-24' };
      },
    },
    {
      code: 'eula_url_not_https',
      path: 'legal.url',
      change: (d) => {
        d.legal = { type: 'custom', url: 'http://example.com/eula.pdf' };
      },
    },
    {
      code: 'buyers_required',
      path: 'buyers',
      change: (d) => {
        d.buyers = [];
      },
    },
    {
      code: 'too_many_buyers',
      path: 'buyers',
      change: (d) => {
        d.buyers = accounts(AWS_BUYER_ACCOUNTS_MAX + 1);
      },
    },
    {
      code: 'too_many_resale_buyers',
      path: 'buyers',
      change: (d) => {
        d.buyers = accounts(26);
        d.reseller = reseller();
      },
    },
    {
      code: 'invalid_buyer_account',
      path: 'buyers.1.accountId',
      change: (d) => {
        d.buyers.push({ accountId: '12345678901' });
      },
    },
    {
      code: 'duplicate_buyer',
      path: 'buyers.1.accountId',
      change: (d) => {
        d.buyers.push({ accountId: '444455556666' });
      },
    },
    {
      code: 'invalid_product_id',
      path: 'productId',
      change: (d) => {
        d.productId = 'prod-UPPER';
      },
    },
    {
      code: 'currency_not_supported',
      path: 'pricing.currency',
      change: (d) => {
        d.pricing.currency = 'CAD';
        d.pricing.usageRates = [];
      },
    },
    {
      code: 'usage_requires_usd',
      path: 'pricing.usageRates',
      change: (d) => {
        d.pricing.currency = 'EUR';
      },
    },
    {
      code: 'invalid_partner_account',
      path: 'reseller.partnerAccountId',
      change: (d) => {
        d.reseller = reseller({ partnerAccountId: 'partner-1' });
      },
    },
    {
      code: 'resale_schedule_requires_single_use',
      path: 'reseller.use',
      change: (d) => {
        d.reseller = reseller({ use: 'time-bound' });
      },
    },
    {
      code: 'resale_expiry_not_before_charges',
      path: 'reseller.expiresOn',
      change: (d) => {
        d.reseller = reseller({ expiresOn: '2026-03-15' });
      },
    },
  ];

const CONTOSO_TENANT = 'd2a7b8c0-1f3e-4a5b-9c6d-7e8f90a1b2c3';
const CONTOSO_BILLING_ACCOUNT =
  '5e1f8a9b-0000-4c1d-8e2f-000000000001:7f3c1e2d-0000-4a5b-9c6d-000000000001_2019-05-31';
const GCP_BILLING_ACCOUNT = '01A2B3-C4D5E6-F7A8B9';
const GCP_RESELLER_ACCOUNT = '0ABCDE-123456-FEDCBA';

/** A valid Azure customer private offer: two plans priced for one year, custom terms. */
function azureInput(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'azure',
    productId: 'agora-saas',
    name: 'Contoso - 1 year',
    buyers: [
      { accountId: CONTOSO_TENANT, name: 'Contoso' },
      { accountId: CONTOSO_BILLING_ACCOUNT },
    ],
    pricing: {
      currency: 'USD',
      upfront: [
        { dimension: 'gold-annual', priceMinor: '1200000', quantity: 10 },
        { dimension: 'platinum-annual', priceMinor: '2400000', quantity: 1 },
      ],
      usageRates: [],
    },
    term: { durationMonths: 12 },
    expiresOn: '2026-03-31',
    legal: { type: 'custom', url: 'https://contoso.blob.core.windows.net/terms/eula.pdf?sv=1' },
  };
}

/** A valid Google Cloud private offer: one billing account, two installments, usage. */
function gcpInput(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'gcp',
    productId: 'agora-saas.endpoints.agora-demo.cloud.goog',
    name: 'Initech - 2 years',
    buyers: [{ accountId: GCP_BILLING_ACCOUNT, name: 'Initech' }],
    pricing: {
      currency: 'USD',
      upfront: [{ dimension: 'enterprise', priceMinor: '5000000', quantity: 2 }],
      usageRates: [{ dimension: 'requests', unitPrice: '0.000000001' }],
    },
    paymentSchedule: [
      { date: '2026-03-20', amountMinor: '4000000' },
      { date: '2027-03-20', amountMinor: '6000000' },
    ],
    term: { durationMonths: 24 },
    expiresOn: '2026-03-31',
    // Google's and Microsoft's standard contracts carry no AWS version.
    legal: { type: 'standard', version: '2019-04-24' },
  };
}

function parsed(base: () => OfferDocumentInput, change: (d: OfferDocumentInput) => void) {
  const input = base();
  change(input);
  return OfferDocumentSchema.parse(input);
}

const guids = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    accountId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  }));

/** Rejections on Azure and Google Cloud documents (new codes, and shared codes they reuse). */
const MARKETPLACE_REJECTIONS: {
  marketplace: 'azure' | 'gcp';
  code: OfferRuleCode;
  path: string;
  change: (d: OfferDocumentInput) => void;
}[] = [
  {
    marketplace: 'azure',
    code: 'buyers_required',
    path: 'buyers',
    change: (d) => {
      d.buyers = [];
    },
  },
  {
    marketplace: 'azure',
    code: 'too_many_buyers',
    path: 'buyers',
    change: (d) => {
      d.buyers = guids(AZURE_BENEFICIARIES_MAX + 1);
    },
  },
  {
    marketplace: 'azure',
    code: 'invalid_buyer_account',
    path: 'buyers.1.accountId',
    change: (d) => {
      d.buyers = [{ accountId: CONTOSO_TENANT }, { accountId: '444455556666' }];
    },
  },
  {
    marketplace: 'azure',
    code: 'duplicate_buyer',
    path: 'buyers.2.accountId',
    change: (d) => {
      d.buyers.push({ accountId: CONTOSO_TENANT.toUpperCase() });
    },
  },
  {
    marketplace: 'azure',
    code: 'currency_not_supported',
    path: 'pricing.currency',
    change: (d) => {
      d.pricing.currency = 'EUR';
    },
  },
  {
    marketplace: 'azure',
    code: 'usage_not_supported',
    path: 'pricing.usageRates',
    change: (d) => {
      d.pricing.usageRates = [{ dimension: 'api', unitPrice: '0.01' }];
    },
  },
  {
    marketplace: 'azure',
    code: 'schedule_not_supported',
    path: 'paymentSchedule',
    change: (d) => {
      d.paymentSchedule = [
        { date: '2026-03-20', amountMinor: '7200000' },
        { date: '2026-09-20', amountMinor: '7200000' },
      ];
    },
  },
  {
    marketplace: 'azure',
    code: 'term_not_supported',
    path: 'term',
    change: (d) => {
      d.term = { durationMonths: 18 };
    },
  },
  {
    marketplace: 'azure',
    code: 'expiry_after_start',
    path: 'expiresOn',
    change: (d) => {
      d.term = { startDate: '2026-03-15', endDate: '2027-03-14' };
    },
  },
  {
    marketplace: 'azure',
    code: 'invalid_partner_account',
    path: 'reseller.partnerAccountId',
    change: (d) => {
      d.reseller = reseller({ partnerAccountId: 'partner-x' });
    },
  },
  {
    marketplace: 'gcp',
    code: 'buyers_required',
    path: 'buyers',
    change: (d) => {
      d.buyers = [];
    },
  },
  {
    marketplace: 'gcp',
    code: 'too_many_buyers',
    path: 'buyers',
    change: (d) => {
      d.buyers.push({ accountId: GCP_RESELLER_ACCOUNT });
    },
  },
  {
    marketplace: 'gcp',
    code: 'invalid_buyer_account',
    path: 'buyers.0.accountId',
    change: (d) => {
      d.buyers = [{ accountId: GCP_BILLING_ACCOUNT.toLowerCase() }];
    },
  },
  {
    marketplace: 'gcp',
    code: 'currency_not_supported',
    path: 'pricing.currency',
    change: (d) => {
      d.pricing.currency = 'EUR';
    },
  },
  {
    marketplace: 'gcp',
    code: 'usage_rate_precision',
    path: 'pricing.usageRates.0.unitPrice',
    change: (d) => {
      d.pricing.usageRates = [{ dimension: 'requests', unitPrice: '0.0000000001' }];
    },
  },
  {
    marketplace: 'gcp',
    code: 'invalid_partner_account',
    path: 'reseller.partnerAccountId',
    change: (d) => {
      d.reseller = reseller({ partnerAccountId: '777788889999', expiresOn: '2026-03-31' });
    },
  },
];

describe('offerRuleViolations', () => {
  it('accepts a valid AWS private offer with a schedule, usage and a reseller', () => {
    expect(check(docWith(() => {}))).toEqual([]);
    expect(
      check(
        docWith((d) => {
          d.reseller = reseller();
        }),
      ),
    ).toEqual([]);
    expect(
      check(
        docWith((d) => {
          d.paymentSchedule = undefined;
          d.term = { startDate: '2026-04-01', endDate: '2027-03-31' };
          d.legal = { type: 'custom', url: 'https://bucket.s3.amazonaws.com/eula.pdf' };
          d.reseller = reseller({
            discountPercent: undefined,
            wholesalePriceMinor: '6199999',
            use: 'time-bound',
          });
        }),
      ),
    ).toEqual([]);
  });

  it('has a rejecting case for every rule code', () => {
    expect(new Set([...REJECTIONS, ...MARKETPLACE_REJECTIONS].map((r) => r.code))).toEqual(
      new Set(OFFER_RULE_CODES),
    );
  });

  for (const { marketplace, code, path, change } of MARKETPLACE_REJECTIONS) {
    it(`rejects an ${marketplace} offer with ${code} at ${path}`, () => {
      const violations = check(parsed(marketplace === 'azure' ? azureInput : gcpInput, change));
      const hit = violations.find((v) => v.code === code);
      expect(hit, JSON.stringify(violations)).toBeDefined();
      expect(hit?.path).toBe(path);
      expect(hit?.message.length).toBeGreaterThan(20);
    });
  }

  for (const { code, path, change } of REJECTIONS) {
    it(`rejects with ${code} at ${path}`, () => {
      const violations = check(docWith(change));
      const hit = violations.find((v) => v.code === code);
      expect(hit, JSON.stringify(violations)).toBeDefined();
      expect(hit?.path).toBe(path);
      expect(hit?.message.length).toBeGreaterThan(20);
    });
  }

  it('flags duplicate upfront dimensions and both ends of the discount range', () => {
    const dup = check(
      docWith((d) => {
        d.pricing.upfront = [
          ...(d.pricing.upfront ?? []),
          { dimension: 'admins', priceMinor: '0', quantity: 1 },
        ];
      }),
    );
    expect(dup).toContainEqual(
      expect.objectContaining({ code: 'duplicate_dimension', path: 'pricing.upfront.2.dimension' }),
    );
    for (const discountPercent of ['0', '-5', '100', '100.5']) {
      expect(
        codes(
          docWith((d) => {
            d.reseller = reseller({ discountPercent });
          }),
        ),
      ).toContain('discount_out_of_range');
    }
    for (const discountPercent of ['0.01', '99.99']) {
      expect(
        codes(
          docWith((d) => {
            d.reseller = reseller({ discountPercent });
          }),
        ),
      ).toEqual([]);
    }
  });

  it('reports every violation at once', () => {
    const doc = docWith((d) => {
      d.productId = 'product-1';
      d.expiresOn = '2026-02-01';
      d.buyers = [{ accountId: 'x' }, { accountId: 'x' }];
      d.pricing.currency = 'EUR';
      d.paymentSchedule = [
        { date: '2026-01-10', amountMinor: '0' },
        { date: '2026-01-10', amountMinor: '1' },
      ];
      d.legal = { type: 'standard', version: '2019-04-24' };
      d.reseller = reseller({ discountPercent: undefined, partnerAccountId: 'p' });
    });
    expect(codes(doc).sort()).toEqual(
      [
        'expiry_in_past',
        'duplicate_charge_dates',
        'zero_charge',
        'schedule_sum_mismatch',
        'too_many_backdated_charges',
        'wholesale_required',
        'legal_version_outdated',
        'invalid_buyer_account',
        'invalid_buyer_account',
        'duplicate_buyer',
        'invalid_product_id',
        'usage_requires_usd',
        'invalid_partner_account',
        'resale_expiry_not_before_charges',
      ].sort(),
    );
  });

  it('accepts valid Azure offers: customer, fixed term and multiparty (MPO)', () => {
    expect(check(parsed(azureInput, () => {}))).toEqual([]);
    expect(
      check(
        parsed(azureInput, (d) => {
          d.term = { startDate: '2026-04-01', endDate: '2027-03-31' };
          d.reseller = reseller({ partnerAccountId: '1234567', expiresOn: '2026-03-31' });
        }),
      ),
    ).toEqual([]);
    expect(
      check(
        parsed(azureInput, (d) => {
          d.buyers = [{ accountId: CONTOSO_TENANT }];
          d.reseller = reseller({
            partnerAccountId: '11111111-2222-4333-8444-555555555555',
            discountPercent: undefined,
            wholesalePriceMinor: '12000000',
          });
          d.expiresOn = '2026-04-01';
          d.term = { startDate: '2026-04-01', durationMonths: 36 };
        }),
      ),
    ).toEqual([]);
  });

  it('accepts valid Google Cloud offers: direct with installments and usage, and a channel offer', () => {
    expect(check(parsed(gcpInput, () => {}))).toEqual([]);
    expect(
      check(
        parsed(gcpInput, (d) => {
          d.reseller = reseller({ partnerAccountId: GCP_RESELLER_ACCOUNT, use: 'time-bound' });
          d.legal = { type: 'custom', url: 'https://example.com/gcp-eula.pdf' };
        }),
      ),
    ).toEqual([]);
  });

  it('checks the common rules on Azure and Google Cloud, without any AWS id rule', () => {
    for (const base of [azureInput, gcpInput]) {
      const doc = parsed(base, (d) => {
        d.expiresOn = '2026-02-01';
      });
      // AWS product ids, account ids and EULA versions are not checked off AWS.
      const expected =
        base === azureInput ? ['expiry_in_past'] : ['expiry_in_past', 'first_charge_after_expiry'];
      expect(codes(doc)).toEqual(expected);
    }
  });

  it('measures an Azure term in whole billing terms only', () => {
    for (const months of AZURE_TERM_MONTHS) {
      expect(
        codes(
          parsed(azureInput, (d) => {
            d.term = { durationMonths: months };
          }),
        ),
      ).toEqual([]);
    }
    // One day short of a year is no billing term; an acceptance deadline on the start is fine.
    expect(
      codes(
        parsed(azureInput, (d) => {
          d.expiresOn = '2026-04-01';
          d.term = { startDate: '2026-04-01', endDate: '2027-03-30' };
        }),
      ),
    ).toEqual(['term_not_supported']);
    expect(
      codes(
        parsed(azureInput, (d) => {
          d.expiresOn = '2026-04-02';
          d.term = { startDate: '2026-04-01', endDate: '2027-03-31' };
        }),
      ),
    ).toEqual(['expiry_after_start']);
  });

  it('accepts any tenant GUID on Azure and any upper-case billing account on Google Cloud, and rejects them swapped', () => {
    const hex = (length: number) =>
      fc
        .array(fc.constantFrom(...'0123456789abcdef'), { minLength: length, maxLength: length })
        .map((chars) => chars.join(''));
    const guid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((parts) => parts.join('-'));
    const billing = fc.tuple(hex(6), hex(6), hex(6)).map((parts) => parts.join('-').toUpperCase());
    fc.assert(
      fc.property(guid, billing, fc.boolean(), (tenant, account, upper) => {
        const azure = parsed(azureInput, (d) => {
          d.buyers = [{ accountId: upper ? tenant.toUpperCase() : tenant }];
        });
        expect(check(azure)).toEqual([]);
        const gcp = parsed(gcpInput, (d) => {
          d.buyers = [{ accountId: account }];
        });
        expect(check(gcp)).toEqual([]);
        expect(
          codes(
            parsed(azureInput, (d) => {
              d.buyers = [{ accountId: account }];
            }),
          ),
        ).toEqual(['invalid_buyer_account']);
        expect(
          codes(
            parsed(gcpInput, (d) => {
              d.buyers = [{ accountId: tenant }];
            }),
          ),
        ).toEqual(['invalid_buyer_account']);
      }),
      { numRuns: 200 },
    );
  });

  it(`allows ${GCP_MONEY_DECIMALS_MAX} decimals in a Google Cloud usage rate, and any number on AWS`, () => {
    expect(
      codes(
        parsed(gcpInput, (d) => {
          d.pricing.usageRates = [{ dimension: 'requests', unitPrice: '1.123456789' }];
        }),
      ),
    ).toEqual([]);
    expect(
      codes(
        docWith((d) => {
          d.pricing.usageRates = [{ dimension: 'api', unitPrice: '0.0000000001' }];
        }),
      ),
    ).toEqual([]);
  });

  it('allows exactly 26 buyers and rejects 27', () => {
    expect(
      check(
        docWith((d) => {
          d.buyers = accounts(26);
        }),
      ),
    ).toEqual([]);
    expect(
      codes(
        docWith((d) => {
          d.buyers = accounts(27);
        }),
      ),
    ).toEqual(['too_many_buyers']);
  });

  it('allows an offer that expires today', () => {
    const doc = docWith((d) => {
      d.expiresOn = TODAY;
      d.paymentSchedule = [
        { date: TODAY, amountMinor: '3100000' },
        { date: '2026-09-15', amountMinor: '3100000' },
      ];
    });
    expect(check(doc)).toEqual([]);
    expect(codes(doc, addDays(TODAY, 1))).toEqual(['expiry_in_past']);
  });

  it('allows one charge on the expiry date but not two on or before it', () => {
    const one = docWith((d) => {
      d.paymentSchedule = [
        { date: '2026-03-31', amountMinor: '3100000' },
        { date: '2026-04-01', amountMinor: '3100000' },
      ];
    });
    expect(check(one)).toEqual([]);
    const two = docWith((d) => {
      d.paymentSchedule = [
        { date: '2026-03-31', amountMinor: '3100000' },
        { date: '2026-03-30', amountMinor: '3100000' },
      ];
    });
    expect(check(two)).toEqual([
      expect.objectContaining({
        code: 'too_many_backdated_charges',
        path: 'paymentSchedule.0.date',
      }),
    ]);
  });

  it('ends a fixed term at the end of its end date and a duration at the latest acceptance', () => {
    const fixed = (last: string) =>
      docWith((d) => {
        d.term = { startDate: '2026-04-01', endDate: '2027-03-31' };
        d.paymentSchedule = [
          { date: '2026-03-20', amountMinor: '3100000' },
          { date: last, amountMinor: '3100000' },
        ];
      });
    expect(check(fixed('2027-03-31'))).toEqual([]);
    expect(codes(fixed('2027-04-01'))).toEqual(['charge_after_end']);
    const duration = (last: string) =>
      docWith((d) => {
        d.paymentSchedule = [
          { date: '2026-03-20', amountMinor: '3100000' },
          { date: last, amountMinor: '3100000' },
        ];
      });
    expect(check(duration('2027-03-30'))).toEqual([]);
    expect(codes(duration('2027-03-31'))).toEqual(['charge_after_end']);
  });

  it('explains a sum mismatch with both amounts in major units', () => {
    const found = check(
      docWith((d) => {
        d.paymentSchedule = [{ date: '2026-03-15', amountMinor: '100050' }];
      }),
    );
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toContain('1000.50 USD');
    expect(found[0]?.message).toContain('62000.00 USD');
  });

  it(`allows ${PAYMENT_SCHEDULE_CHARGES_MAX} charges and treats an empty schedule as none`, () => {
    const sixty = docWith((d) => {
      d.term = { durationMonths: 120 };
      d.pricing.upfront = [{ dimension: 'seats', priceMinor: '60', quantity: 1 }];
      d.paymentSchedule = Array.from({ length: 60 }, (_, i) => ({
        date: addMonths('2026-03-31', i),
        amountMinor: '1',
      }));
    });
    expect(check(sixty)).toEqual([]);
    expect(
      check(
        docWith((d) => {
          d.paymentSchedule = [];
          d.pricing.upfront = [];
        }),
      ),
    ).toEqual([]);
  });

  it('accepts any valid random schedule and rejects any off-by-one amount', () => {
    const SCHEDULE_CODES = new Set([
      'schedule_without_upfront',
      'duplicate_charge_dates',
      'zero_charge',
      'schedule_sum_mismatch',
      'first_charge_after_expiry',
      'too_many_backdated_charges',
      'charge_after_end',
      'too_many_charges',
    ]);
    const expiresOn = '2026-03-31';
    const schedules = fc.integer({ min: 1, max: PAYMENT_SCHEDULE_CHARGES_MAX }).chain((n) =>
      fc.record({
        amounts: fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), {
          minLength: n,
          maxLength: n,
        }),
        firstOffset: fc.integer({ min: 0, max: 60 }),
        // 60 months from the latest acceptance: any later day before it is valid.
        laterOffsets: fc.uniqueArray(fc.integer({ min: 1, max: 1800 }), {
          minLength: n - 1,
          maxLength: n - 1,
        }),
        order: fc.array(fc.nat(), { minLength: n, maxLength: n }),
        perturbIndex: fc.nat({ max: n - 1 }),
        delta: fc.constantFrom(1n, -1n),
      }),
    );
    fc.assert(
      fc.property(
        schedules,
        ({ amounts, firstOffset, laterOffsets, order, perturbIndex, delta }) => {
          const dates = [
            addDays(expiresOn, -firstOffset),
            ...laterOffsets.map((days) => addDays(expiresOn, days)),
          ];
          const charges = amounts
            .map((amount, i) => ({ date: dates[i] ?? expiresOn, amountMinor: amount.toString() }))
            .map((charge, i) => ({ charge, key: order[i] ?? 0 }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.charge);
          const total = amounts.reduce((a, b) => a + b, 0n);
          const build = (schedule: typeof charges) =>
            docWith((d) => {
              d.expiresOn = expiresOn;
              d.term = { durationMonths: 60 };
              d.pricing.upfront = [
                { dimension: 'seats', priceMinor: total.toString(), quantity: 1 },
              ];
              d.paymentSchedule = schedule;
            });
          const valid = check(build(charges));
          expect(valid.filter((v) => SCHEDULE_CODES.has(v.code))).toEqual([]);
          expect(valid).toEqual([]);

          const perturbed = charges.map((charge, i) =>
            i === perturbIndex
              ? { ...charge, amountMinor: (BigInt(charge.amountMinor) + delta).toString() }
              : charge,
          );
          expect(codes(build(perturbed))).toContain('schedule_sum_mismatch');
        },
      ),
      { numRuns: 200 },
    );
  });
});
