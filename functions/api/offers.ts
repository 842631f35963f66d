/** The offers area's Lambda function: 12 routes, dispatched by route key (lib/http/route-groups.ts). */
import { dispatchGroup } from '../../lib/http/dispatch';
import { handler as approveOffer } from '../http/approve-offer';
import { handler as createListing } from '../http/create-listing';
import { handler as createOffer } from '../http/create-offer';
import { handler as getListing } from '../http/get-listing';
import { handler as getOffer } from '../http/get-offer';
import { handler as getOfferSchema } from '../http/get-offer-schema';
import { handler as listListings } from '../http/list-listings';
import { handler as listOffers } from '../http/list-offers';
import { handler as rejectOffer } from '../http/reject-offer';
import { handler as submitOffer } from '../http/submit-offer';
import { handler as updateListing } from '../http/update-listing';
import { handler as updateOffer } from '../http/update-offer';

export const handler = dispatchGroup('offers', {
  'create-offer': createOffer,
  'list-offers': listOffers,
  'get-offer': getOffer,
  'update-offer': updateOffer,
  'submit-offer': submitOffer,
  'approve-offer': approveOffer,
  'reject-offer': rejectOffer,
  'get-offer-schema': getOfferSchema,
  'list-listings': listListings,
  'get-listing': getListing,
  'update-listing': updateListing,
  'create-listing': createListing,
});
