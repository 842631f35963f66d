/** POST /v1/touches — record a referral or activity; matching contracts are re-attributed. */
import { recordTouch } from '../../lib/app/partners';
import { httpHandler } from '../../lib/http/handler';
import { callerOf, recordTouchRoute } from '../../lib/http/partner-routes';
import { getContainer } from '../../lib/runtime/container';

export const handler = httpHandler(recordTouchRoute, getContainer, async ({ body, principal }) => {
  const result = await recordTouch(getContainer(), callerOf(principal), body);
  return { status: result.created ? 201 : 200, body: result.touch };
});
