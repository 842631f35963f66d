// Proves the seller guardrails: each limit produces its reason (all at once), the discount floor is exact at its boundary (20 % off passes, 20.01 % does not), and a price at or above list × (1 − max) never trips the floor.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addMonths } from '../../../../lib/domain/calendar';
import {
  DEFAULT_GUARDRAIL_POLICY,
  evaluateGuardrails,
  type GuardrailPolicy,
  type GuardrailPolicyInput,
  GuardrailPolicySchema,
} from '../../../../lib/domain/offers/guardrails';
import {
  type OfferDocument,
  type OfferDocumentInput,
  OfferDocumentSchema,
} from '../../../../lib/domain/offers/offer-document';

const PRODUCT = 'prod-2pexampleproduct01';

/** 62,000.00 USD: 250 seats at 240.00 (list 300.00, exactly 20 % off) and 2 admins at list. */
function baseInput(): OfferDocumentInput {
  return {
    schemaVersion: 1,
    marketplace: 'aws',
    productId: PRODUCT,
    name: 'Acme Corp - 12 month enterprise',
    buyers: [{ accountId: '444455556666' }],
    pricing: {
      currency: 'USD',
      upfront: [
        { dimension: 'enterprise_seats', priceMinor: '24000', quantity: 250 },
        { dimension: 'admins', priceMinor: '100000', quantity: 2 },
      ],
      usageRates: [{ dimension: 'api_calls_overage', unitPrice: '0.0001' }],
    },
    paymentSchedule: [
      { date: '2026-03-15', amountMinor: '3100000' },
      { date: '2026-09-15', amountMinor: '3100000' },
    ],
    term: { durationMonths: 12 },
    expiresOn: '2026-03-31',
    legal: { type: 'standard', version: '2022-07-14' },
  };
}

function docWith(change: (input: OfferDocumentInput) => void = () => {}): OfferDocument {
  const input = baseInput();
  change(input);
  return OfferDocumentSchema.parse(input);
}

function policyWith(change: (input: GuardrailPolicyInput) => void = () => {}): GuardrailPolicy {
  const input: GuardrailPolicyInput = {
    version: '2026-11-01',
    maxDiscountPercent: '20',
    listPrices: [
      { productId: PRODUCT, dimension: 'enterprise_seats', currency: 'USD', priceMinor: '30000' },
      { productId: PRODUCT, dimension: 'admins', currency: 'USD', priceMinor: '100000' },
      { productId: PRODUCT, dimension: 'enterprise_seats', currency: 'EUR', priceMinor: '28000' },
    ],
    maxInstallments: 12,
    maxDurationMonths: 36,
    resellerDiscountCapPercent: '20',
    allowedCurrencies: ['USD', 'EUR', 'GBP'],
  };
  change(input);
  return GuardrailPolicySchema.parse(input);
}

function reasonCodes(doc: OfferDocument, policy = policyWith()): string[] {
  return evaluateGuardrails(doc, policy).reasons.map((r) => r.code);
}

describe('GuardrailPolicySchema', () => {
  it('ships a default policy with the documented limits', () => {
    expect(DEFAULT_GUARDRAIL_POLICY).toEqual({
      version: '2026-11-01',
      maxDiscountPercent: '20',
      listPrices: [],
      maxInstallments: 12,
      maxDurationMonths: 36,
      resellerDiscountCapPercent: '20',
      allowedCurrencies: ['USD', 'EUR', 'GBP'],
    });
  });

  it('decodes list prices to bigint and rejects malformed policies', () => {
    expect(policyWith().listPrices[0]?.priceMinor).toBe(30000n);
    const bad: ((p: GuardrailPolicyInput) => void)[] = [
      (p) => {
        p.maxDiscountPercent = '100.01';
      },
      (p) => {
        p.resellerDiscountCapPercent = '-1';
      },
      (p) => {
        p.maxInstallments = 0;
      },
      (p) => {
        p.allowedCurrencies = [];
      },
      (p) => {
        p.allowedCurrencies = ['XYZ'];
      },
      (p) => {
        p.listPrices.push({
          productId: PRODUCT,
          dimension: 'admins',
          currency: 'USD',
          priceMinor: '1',
        });
      },
    ];
    for (const change of bad) expect(() => policyWith(change)).toThrow();
  });
});

describe('evaluateGuardrails', () => {
  it('auto-approves an offer inside every limit and names the policy version', () => {
    expect(evaluateGuardrails(docWith(), policyWith())).toEqual({
      decision: 'auto-approve',
      policyVersion: '2026-11-01',
      reasons: [],
    });
  });

  it('allows exactly 20 % off list and flags 20.01 % with the exact percent', () => {
    const at = (priceMinor: string) =>
      evaluateGuardrails(
        docWith((d) => {
          d.pricing.upfront = [{ dimension: 'enterprise_seats', priceMinor, quantity: 1 }];
          d.paymentSchedule = undefined;
        }),
        policyWith(),
      );
    expect(at('24000').decision).toBe('auto-approve');
    const over = at('23997');
    expect(over.decision).toBe('needs-approval');
    expect(over.reasons).toEqual([
      {
        path: 'pricing.upfront.0.priceMinor',
        code: 'discount_below_floor',
        message: expect.stringContaining('20.01 % below its list price of 300.00 USD'),
      },
    ]);
    // One minor unit below the floor is still over it, even though it shows as 20.00 %.
    expect(at('23999').reasons.map((r) => r.message)).toEqual([
      expect.stringContaining('20.00 % below'),
    ]);
    // The percent is rounded down: 20.019 % shows as 20.01 %.
    const roundedDown = evaluateGuardrails(
      docWith((d) => {
        d.pricing.upfront = [{ dimension: 'admins', priceMinor: '79981', quantity: 1 }];
        d.paymentSchedule = undefined;
      }),
      policyWith(),
    );
    expect(roundedDown.reasons[0]?.message).toContain('20.01 % below');
  });

  it('needs approval for a dimension without a list price in the offer currency', () => {
    const noAdmins = policyWith((p) => {
      p.listPrices = p.listPrices.filter((l) => l.dimension !== 'admins');
    });
    expect(evaluateGuardrails(docWith(), noAdmins).reasons).toEqual([
      expect.objectContaining({ code: 'no_list_price', path: 'pricing.upfront.1.priceMinor' }),
    ]);
    const inEur = docWith((d) => {
      d.pricing.currency = 'EUR';
    });
    // Seats have an EUR list price (280.00: 240.00 is 14.28 % off), admins do not.
    expect(evaluateGuardrails(inEur, policyWith()).reasons).toEqual([
      expect.objectContaining({ code: 'no_list_price', path: 'pricing.upfront.1.priceMinor' }),
    ]);
    const otherProduct = docWith((d) => {
      d.productId = 'prod-other';
    });
    expect(reasonCodes(otherProduct)).toEqual(['no_list_price', 'no_list_price']);
  });

  it('does not discount-check usage rates', () => {
    const cheapUsage = docWith((d) => {
      d.pricing.usageRates = [{ dimension: 'unlisted_metric', unitPrice: '0' }];
    });
    expect(reasonCodes(cheapUsage)).toEqual([]);
  });

  it('needs approval for more installments than allowed', () => {
    const installments = (n: number) =>
      docWith((d) => {
        d.paymentSchedule = Array.from({ length: n }, (_, i) => ({
          date: addMonths('2026-01-28', i),
          amountMinor: i === 0 ? String(6200000 - (n - 1)) : '1',
        }));
      });
    expect(reasonCodes(installments(12))).toEqual([]);
    expect(evaluateGuardrails(installments(13), policyWith()).reasons).toEqual([
      expect.objectContaining({ code: 'too_many_installments', path: 'paymentSchedule' }),
    ]);
  });

  it('needs approval for a term longer than allowed, counting a part month as a month', () => {
    const months = (durationMonths: number) =>
      docWith((d) => {
        d.term = { durationMonths };
      });
    expect(reasonCodes(months(36))).toEqual([]);
    expect(evaluateGuardrails(months(37), policyWith()).reasons).toEqual([
      expect.objectContaining({ code: 'term_too_long', path: 'term.durationMonths' }),
    ]);
    const dates = (endDate: string) =>
      docWith((d) => {
        d.term = { startDate: '2026-04-01', endDate };
      });
    // 2026-04-01 through 2029-03-31 is exactly 36 months; one more day makes it 37.
    expect(reasonCodes(dates('2029-03-31'))).toEqual([]);
    const longer = evaluateGuardrails(dates('2029-04-01'), policyWith());
    expect(longer.reasons).toEqual([
      expect.objectContaining({ code: 'term_too_long', path: 'term.endDate' }),
    ]);
    expect(longer.reasons[0]?.message).toContain('37 months');
  });

  it('caps the reseller discount, given as a percent or as a wholesale price', () => {
    const withReseller = (reseller: { discountPercent?: string; wholesalePriceMinor?: string }) =>
      docWith((d) => {
        d.reseller = {
          partnerAccountId: '777788889999',
          use: 'single-use',
          expiresOn: '2026-03-10',
          ...reseller,
        };
      });
    expect(reasonCodes(withReseller({ discountPercent: '20' }))).toEqual([]);
    expect(
      evaluateGuardrails(withReseller({ discountPercent: '20.01' }), policyWith()).reasons,
    ).toEqual([
      expect.objectContaining({
        code: 'reseller_discount_above_cap',
        path: 'reseller.discountPercent',
      }),
    ]);
    // 20 % of 62,000.00 is 12,400.00: a wholesale price of 49,600.00 is exactly at the cap.
    expect(reasonCodes(withReseller({ wholesalePriceMinor: '4960000' }))).toEqual([]);
    const below = evaluateGuardrails(
      withReseller({ wholesalePriceMinor: '4959380' }),
      policyWith(),
    );
    expect(below.reasons).toEqual([
      expect.objectContaining({
        code: 'reseller_discount_above_cap',
        path: 'reseller.wholesalePriceMinor',
      }),
    ]);
    expect(below.reasons[0]?.message).toContain('20.01 %');
  });

  it('needs approval for a currency the policy does not allow', () => {
    const aud = docWith((d) => {
      d.pricing.currency = 'AUD';
    });
    expect(
      reasonCodes(
        aud,
        policyWith((p) => {
          p.listPrices = p.listPrices
            .filter((l) => l.currency === 'USD')
            .map((l) => ({ ...l, currency: 'AUD' }));
        }),
      ),
    ).toEqual(['currency_not_allowed']);
  });

  it('gives every reason at once', () => {
    const doc = docWith((d) => {
      d.pricing.currency = 'JPY';
      d.pricing.upfront = [
        { dimension: 'enterprise_seats', priceMinor: '1', quantity: 1 },
        { dimension: 'admins', priceMinor: '1', quantity: 1 },
      ];
      d.paymentSchedule = Array.from({ length: 13 }, (_, i) => ({
        date: `2026-${String((i % 12) + 1).padStart(2, '0')}-${i < 12 ? '01' : '02'}`,
        amountMinor: '1',
      }));
      d.term = { durationMonths: 48 };
      d.reseller = {
        partnerAccountId: '777788889999',
        discountPercent: '50',
        use: 'single-use',
        expiresOn: '2026-03-10',
      };
    });
    const policy = policyWith((p) => {
      p.listPrices.push({
        productId: PRODUCT,
        dimension: 'enterprise_seats',
        currency: 'JPY',
        priceMinor: '100',
      });
    });
    const result = evaluateGuardrails(doc, policy);
    expect(result.decision).toBe('needs-approval');
    expect(result.reasons.map((r) => `${r.code}@${r.path}`)).toEqual([
      'currency_not_allowed@pricing.currency',
      'discount_below_floor@pricing.upfront.0.priceMinor',
      'no_list_price@pricing.upfront.1.priceMinor',
      'too_many_installments@paymentSchedule',
      'term_too_long@term.durationMonths',
      'reseller_discount_above_cap@reseller.discountPercent',
    ]);
    expect(result.reasons[1]?.message).toContain('99.00 % below its list price of 100 JPY');
  });

  it('never trips the floor at or above list × (1 − max), and always one unit below it', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (list, hundredths, extra) => {
          const maxDiscount = `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
          const keep = BigInt(10_000 - hundredths);
          // The lowest allowed price: ceil(list × (10000 − h) / 10000), exactly.
          const floorPrice = (list * keep + 9_999n) / 10_000n;
          const policy = policyWith((p) => {
            p.maxDiscountPercent = maxDiscount;
            p.listPrices = [
              {
                productId: PRODUCT,
                dimension: 'seats',
                currency: 'USD',
                priceMinor: list.toString(),
              },
            ];
          });
          const priced = (price: bigint) =>
            docWith((d) => {
              d.pricing.upfront = [
                { dimension: 'seats', priceMinor: price.toString(), quantity: 1 },
              ];
              d.paymentSchedule = undefined;
            });
          expect(reasonCodes(priced(floorPrice + extra), policy)).not.toContain(
            'discount_below_floor',
          );
          if (floorPrice > 0n) {
            expect(reasonCodes(priced(floorPrice - 1n), policy)).toContain('discount_below_floor');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
