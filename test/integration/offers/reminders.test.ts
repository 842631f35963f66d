// Proves offer expiry reminders against DynamoDB Local: run daily over a month, each published offer gets exactly one reminder per window (one .eml file and one OfferExpiring delivery per subscribed endpoint), drafts/failed/expired offers none; concurrent runs that both see a reminder due send it once; a failed email keeps its claim, is not re-sent within the lease and is retried after it (bounded); the folder outbox overwrites on retry; and over real HTTP an endpoint subscribes to OfferExpiring and receives one signed POST.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ReminderDeps,
  type ReminderSummary,
  sendExpiryReminders,
} from '../../../lib/app/offer-reminders';
import type { WebhookEndpoint } from '../../../lib/app/ports';
import type { EmailMessage, EmailOutbox } from '../../../lib/app/reminder-ports';
import { deliverDueWebhooks } from '../../../lib/app/webhooks';
import { addDays, dateOfInstant } from '../../../lib/domain/calendar';
import type { OfferRecord, OfferStatus } from '../../../lib/domain/offers/offer';
import { reminderId } from '../../../lib/domain/offers/reminders';
import { EmailSendError, FolderEmailOutbox } from '../../../lib/outbound/email-outbox';
import { getContainer } from '../../../lib/runtime/container';
import type { DynamoStore } from '../../../lib/store/dynamo-store';
import { DynamoOfferStore } from '../../../lib/store/offer-store';
import { DynamoReminderClaims, REMINDER_ATTEMPTS_MAX } from '../../../lib/store/reminder-store';
import { DynamoWebhookStore } from '../../../lib/store/webhook-store';
import { freshStore } from '../helpers';
import { startTestStack, type TestStack } from '../pipeline/helpers';

const START = '2026-06-01';
const RECIPIENTS = ['seller@example.com', 'deal-desk@example.com'];

function offerRecord(offerId: string, expiresOn: string, status: OfferStatus = 'published') {
  const record: OfferRecord = {
    offerId,
    marketplace: 'aws',
    version: 3,
    status,
    document: {
      schemaVersion: 1,
      marketplace: 'aws',
      productId: 'prod-example01',
      name: `Deal ${offerId}`,
      buyers: [{ accountId: '111122223333', name: 'Acme Corp' }],
      expiresOn,
    },
    createdBy: 'deal-desk',
    createdAt: '2026-05-20T09:00:00.000Z',
    updatedAt: '2026-05-20T09:05:00.000Z',
    guardrails: null,
    approval: null,
    publication: null,
    expiresOn,
    history: [],
  };
  return record;
}

function endpoint(endpointId: string, eventTypes: string[], status: 'active' | 'disabled') {
  const created: WebhookEndpoint = {
    endpointId,
    url: `https://seller.example/${endpointId}`,
    description: '',
    eventTypes,
    secret: `whsec_${endpointId}`,
    status,
    createdAt: '2026-05-01T00:00:00.000Z',
  };
  return created;
}

/** A clock the test moves: 06:00 UTC on the day the job runs for, plus some minutes. */
function movingClock() {
  let now = `${START}T06:00:00.000Z`;
  return {
    clock: { now: () => now },
    runAt(day: string, minutes = 0) {
      now = new Date(Date.parse(`${day}T06:00:00.000Z`) + minutes * 60_000).toISOString();
      return day;
    },
  };
}

/** An outbox that fails while `failing` is set (the first N sends, or always). */
class FlakyOutbox implements EmailOutbox {
  failures = 0;
  constructor(
    private readonly inner: EmailOutbox,
    public failing: (message: EmailMessage) => boolean,
  ) {}
  async send(message: EmailMessage): Promise<string> {
    if (this.failing(message)) {
      this.failures += 1;
      throw new EmailSendError('email_unavailable', 'SMTP relay down', false);
    }
    return this.inner.send(message);
  }
}

async function setUp() {
  const store: DynamoStore = await freshStore();
  const offers = new DynamoOfferStore(store);
  const webhooks = new DynamoWebhookStore(store);
  const reminderClaims = new DynamoReminderClaims(store);
  const dir = mkdtempSync(join(tmpdir(), 'agora-outbox-'));
  const folder = new FolderEmailOutbox(dir, 'Agora <agora@agora.example>');
  const time = movingClock();
  await webhooks.createEndpoint(endpoint('whe_sub', ['OfferExpiring'], 'active'));
  await webhooks.createEndpoint(endpoint('whe_all', [], 'active'));
  await webhooks.createEndpoint(endpoint('whe_contracts', ['ContractCreated'], 'active'));
  await webhooks.createEndpoint(endpoint('whe_off', ['OfferExpiring'], 'disabled'));
  const deps = (emailOutbox: EmailOutbox = folder): ReminderDeps => ({
    offers,
    reminderClaims,
    webhooks,
    emailOutbox,
    clock: time.clock,
  });
  return { store, offers, webhooks, reminderClaims, dir, folder, time, deps };
}

type World = Awaited<ReturnType<typeof setUp>>;

function emlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort();
}

async function deliveriesOf(world: World, offerId: string) {
  return (await world.webhooks.listDeliveries({ contractId: offerId }, { limit: 50 })).items;
}

describe('offer expiry reminders (DynamoDB Local, folder outbox)', () => {
  let world: World;
  beforeAll(async () => {
    world = await setUp();
  });

  it('sends exactly one reminder per window over a month of daily runs, and none to other offers', async () => {
    const expiries = {
      of_long: addDays(START, 20), // 14, 7 and 1 in turn
      of_short: addDays(START, 5), // first seen with 5 days left: 7 then 1, never 14
      of_draft: addDays(START, 6),
      of_failed: addDays(START, 6),
      of_gone: addDays(START, -1), // published, already expired
    };
    await world.offers.create(offerRecord('of_long', expiries.of_long));
    await world.offers.create(offerRecord('of_short', expiries.of_short));
    await world.offers.create(offerRecord('of_draft', expiries.of_draft, 'draft'));
    await world.offers.create(offerRecord('of_failed', expiries.of_failed, 'failed'));
    await world.offers.create(offerRecord('of_gone', expiries.of_gone));

    const sent: { day: string; offerId: string; window: number; daysLeft: number }[] = [];
    for (let d = 0; d <= 25; d += 1) {
      // Twice a day (a retried invocation): the second run finds nothing left to send.
      for (const minutes of [0, 90]) {
        const today = world.time.runAt(addDays(START, d), minutes);
        const summary = await sendExpiryReminders(world.deps(), {
          today,
          windows: [14, 7, 1],
          recipients: RECIPIENTS,
        });
        expect(summary.problems).toEqual([]);
        expect(summary.checked).toBe(3); // the three published offers
        if (minutes > 0) expect(summary.sent).toEqual([]);
        for (const s of summary.sent) sent.push({ day: today, ...s });
      }
    }
    expect(sent.map((s) => [s.offerId, s.window, s.day, s.daysLeft])).toEqual(
      [
        ['of_short', 7, '2026-06-01', 5],
        ['of_long', 14, '2026-06-07', 14],
        ['of_long', 7, '2026-06-14', 7],
        ['of_short', 1, '2026-06-05', 1],
        ['of_long', 1, '2026-06-20', 1],
      ].sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
    );

    // One .eml per reminder, named after its deterministic id.
    const expectedFiles = [
      ['of_long', 14],
      ['of_long', 7],
      ['of_long', 1],
      ['of_short', 7],
      ['of_short', 1],
    ].map(([offerId, window]) => `${reminderId(String(offerId), Number(window))}.eml`);
    expect(emlFiles(world.dir)).toEqual(expectedFiles.sort());
    const eml = readFileSync(join(world.dir, `${reminderId('of_long', 7)}.eml`), 'utf8');
    expect(eml).toContain('Subject: Private offer "Deal of_long" expires in 7 days (2026-06-21)');
    expect(eml).toContain('To: seller@example.com, deal-desk@example.com');
    expect(eml).toContain(`Message-ID: <${reminderId('of_long', 7)}@agora.example>`);
    expect(eml).toContain('Date: Sun, 14 Jun 2026 06:00:00 +0000');

    // One OfferExpiring delivery per reminder, to the subscribed active endpoint only.
    const long = await deliveriesOf(world, 'of_long');
    expect(long).toHaveLength(3);
    expect(new Set(long.map((d) => d.endpointId))).toEqual(new Set(['whe_sub']));
    expect(long.every((d) => d.eventTypes.join() === 'OfferExpiring')).toBe(true);
    expect(
      long.map((d) => JSON.parse(d.payload).reminder.window).sort((a: number, b: number) => a - b),
    ).toEqual([1, 7, 14]);
    expect(await deliveriesOf(world, 'of_short')).toHaveLength(2);
    for (const other of ['of_draft', 'of_failed', 'of_gone'])
      expect(await deliveriesOf(world, other)).toEqual([]);
    expect(
      (await world.reminderClaims.sentWindows('of_long', world.time.clock.now())).sort(),
    ).toEqual([1, 14, 7].sort());
  });

  it('sends once when two runs both find the reminder due and race for it', async () => {
    const today = world.time.runAt('2026-07-01');
    await world.offers.create(offerRecord('of_race', addDays(today, 7)));
    // Both runs read the claims before either claims: only the conditional write can decide.
    let reads = 0;
    let release: () => void = () => undefined;
    const bothRead = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gated: ReminderDeps = {
      ...world.deps(),
      reminderClaims: {
        claim: (...args) => world.reminderClaims.claim(...args),
        markSent: (...args) => world.reminderClaims.markSent(...args),
        markFailed: (...args) => world.reminderClaims.markFailed(...args),
        async sentWindows(offerId, at) {
          const windows = await world.reminderClaims.sentWindows(offerId, at);
          if (offerId === 'of_race') {
            reads += 1;
            if (reads === 2) release();
            await bothRead;
          }
          return windows;
        },
      },
    };
    const before = emlFiles(world.dir).length;
    const runs: ReminderSummary[] = await Promise.all(
      [0, 1].map(() =>
        sendExpiryReminders(gated, { today, windows: [14, 7, 1], recipients: RECIPIENTS }),
      ),
    );
    const race = runs.flatMap((r) => r.sent).filter((s) => s.offerId === 'of_race');
    expect(race).toHaveLength(1);
    expect(race[0]?.window).toBe(7);
    expect(runs.map((r) => r.claimedElsewhere).sort()).toEqual([0, 1]);
    expect(emlFiles(world.dir).length).toBe(before + 1);
    expect(await deliveriesOf(world, 'of_race')).toHaveLength(1);
  });

  it('keeps the claim of a failed email, does not re-send within the lease, retries after it', async () => {
    const today = world.time.runAt('2026-08-01');
    await world.offers.create(offerRecord('of_flaky', addDays(today, 7)));
    const outbox = new FlakyOutbox(world.folder, () => true);
    const failed = await sendExpiryReminders(world.deps(outbox), {
      today,
      recipients: RECIPIENTS,
    });
    expect(failed.sent).toEqual([]);
    expect(failed.problems).toEqual([
      {
        offerId: 'of_flaky',
        window: 7,
        code: 'email_unavailable',
        message: 'EmailSendError: SMTP relay down',
      },
    ]);
    expect(emlFiles(world.dir)).not.toContain(`${reminderId('of_flaky', 7)}.eml`);
    // The webhook was queued before the email failed; it stays queued, once.
    expect(await deliveriesOf(world, 'of_flaky')).toHaveLength(1);
    const claim = await world.store.get({ pk: 'OFFER#of_flaky', sk: 'REMINDER#7' });
    expect(claim).toMatchObject({ state: 'claimed', attempts: 1, lastError: expect.any(String) });

    // Ten minutes later the claim is still held: nothing is sent, nothing is claimed again.
    outbox.failing = () => false;
    world.time.runAt(today, 10);
    const held = await sendExpiryReminders(world.deps(outbox), { today, recipients: RECIPIENTS });
    expect(held).toMatchObject({ sent: [], claimedElsewhere: 0, problems: [] });

    // After the lease a later run takes the claim over and sends it, once.
    world.time.runAt(today, 60);
    const retried = await sendExpiryReminders(world.deps(outbox), {
      today,
      recipients: RECIPIENTS,
    });
    expect(retried.sent).toMatchObject([
      { offerId: 'of_flaky', window: 7, deliveries: 0, messageId: expect.any(String) },
    ]);
    expect(emlFiles(world.dir)).toContain(`${reminderId('of_flaky', 7)}.eml`);
    expect(await deliveriesOf(world, 'of_flaky')).toHaveLength(1);
    expect(await world.store.get({ pk: 'OFFER#of_flaky', sk: 'REMINDER#7' })).toMatchObject({
      state: 'sent',
      attempts: 2,
    });
    world.time.runAt(addDays(today, 1));
    expect(
      (await sendExpiryReminders(world.deps(outbox), { today: addDays(today, 1) })).sent,
    ).toEqual([]);
  });

  it('gives up on a reminder after the bounded attempts, reporting each failure', async () => {
    const today = world.time.runAt('2026-09-01');
    await world.offers.create(offerRecord('of_dead', addDays(today, 3)));
    const outbox = new FlakyOutbox(world.folder, (m) => m.id === reminderId('of_dead', 7));
    const problems: string[] = [];
    for (let attempt = 0; attempt < REMINDER_ATTEMPTS_MAX + 2; attempt += 1) {
      world.time.runAt(today, attempt * 60);
      const summary = await sendExpiryReminders(world.deps(outbox), {
        today,
        recipients: RECIPIENTS,
      });
      problems.push(...summary.problems.map((p) => `${p.offerId}:${p.window}:${p.code}`));
    }
    expect(outbox.failures).toBe(REMINDER_ATTEMPTS_MAX);
    expect(problems).toEqual(Array(REMINDER_ATTEMPTS_MAX).fill('of_dead:7:email_unavailable'));
    // The next window still goes out.
    const lastDay = world.time.runAt(addDays(today, 2));
    const next = await sendExpiryReminders(world.deps(outbox), {
      today: lastDay,
      recipients: RECIPIENTS,
    });
    expect(next.sent).toMatchObject([{ offerId: 'of_dead', window: 1 }]);
  });

  it('the folder outbox overwrites a retried message and reports an unwritable folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agora-outbox-'));
    const outbox = new FolderEmailOutbox(dir, 'agora@agora.example');
    const message: EmailMessage = {
      id: 'rem_retry',
      to: ['seller@example.com'],
      subject: 'first',
      text: 'one',
      at: '2026-06-01T06:00:00.000Z',
    };
    expect(await outbox.send(message)).toBe('rem_retry@agora.example');
    await outbox.send({ ...message, subject: 'second' });
    expect(readdirSync(dir)).toEqual(['rem_retry.eml']);
    expect(readFileSync(join(dir, 'rem_retry.eml'), 'utf8')).toContain('Subject: second');
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    await expect(new FolderEmailOutbox(join(file, 'sub')).send(message)).rejects.toMatchObject({
      code: 'email_outbox_unwritable',
    });
  });
});

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe('OfferExpiring over the provisioning webhooks (local stack, real HTTP)', () => {
  let test: TestStack;
  let receiver: Server;
  let receiverUrl = '';
  const received: Received[] = [];

  beforeAll(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const address = receiver.address();
    receiverUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hooks`;
    test = await startTestStack();
  });

  afterAll(async () => {
    await test?.stack.stop();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  });

  it('lets an endpoint subscribe to OfferExpiring and delivers one signed reminder to it', async () => {
    expect(
      (
        await test.post(
          '/v1/webhook-endpoints',
          { url: receiverUrl, eventTypes: ['OfferExploded'] },
          { roles: ['admin'] },
        )
      ).status,
    ).toBe(400);
    const created = await test.post(
      '/v1/webhook-endpoints',
      { url: receiverUrl, description: 'offer reminders', eventTypes: ['OfferExpiring'] },
      { roles: ['admin'] },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ eventTypes: ['OfferExpiring'], status: 'active' });

    const container = getContainer();
    const today = dateOfInstant(container.clock.now());
    await container.offers.create(offerRecord('of_http', addDays(today, 1)));
    const deps: ReminderDeps = {
      offers: container.offers,
      webhooks: container.webhooks,
      clock: container.clock,
      reminderClaims: new DynamoReminderClaims(container.store),
      emailOutbox: new FolderEmailOutbox(join(test.dataDir, 'outbox')),
    };
    for (let run = 0; run < 2; run += 1) {
      const summary = await sendExpiryReminders(deps, { today, recipients: RECIPIENTS });
      expect(summary.sent).toHaveLength(run === 0 ? 1 : 0);
    }
    await test.stack.settle();
    await deliverDueWebhooks({
      webhooks: container.webhooks,
      sender: container.webhookSender,
      clock: container.clock,
    });
    expect(received).toHaveLength(1);
    const post = received[0] as Received;
    const secret = String(created.body.secret);
    const timestamp = String(post.headers['agora-webhook-timestamp']);
    expect(post.headers['agora-signature']).toBe(
      `v1=${createHmac('sha256', secret).update(`${timestamp}.${post.body}`).digest('hex')}`,
    );
    expect(JSON.parse(post.body)).toMatchObject({
      type: 'offer.expiring',
      offer: { offerId: 'of_http', expiresOn: addDays(today, 1), buyers: ['111122223333'] },
      reminder: { window: 1, daysLeft: 1 },
      events: [{ eventId: reminderId('of_http', 1), type: 'OfferExpiring' }],
    });
    const log = await test.get('/v1/webhook-deliveries?contractId=of_http');
    expect(log.body.items).toMatchObject([
      { status: 'delivered', eventTypes: ['OfferExpiring'], contractVersion: 0 },
    ]);
    expect(readdirSync(join(test.dataDir, 'outbox'))).toEqual([`${reminderId('of_http', 1)}.eml`]);
  });
});
