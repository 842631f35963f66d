/** Sends provisioning webhooks with fetch: bounded time, no redirects, body of the reply ignored. */
import type { WebhookSender } from '../app/ports';

export const WEBHOOK_TIMEOUT_MS = 10_000;

export class FetchWebhookSender implements WebhookSender {
  constructor(private readonly timeoutMs = WEBHOOK_TIMEOUT_MS) {}

  async post(
    url: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number }> {
    const response = await fetch(url, {
      method: 'POST',
      body,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel();
    return { status: response.status };
  }
}
