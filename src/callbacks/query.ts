// The query of the admin API's delivery list, as a zod schema: the route validates with it
// (src/http/validate.ts) and its OpenAPI entry is generated from it.
import * as z from "../config/zod";
import { DELIVERY_LIST_MAX } from "../config/constants";
import { integer } from "../http/validate";

const PAGE = {
  limit: integer(1, DELIVERY_LIST_MAX).default(50),
  cursor: z.optional(
    z.pipe(z.string().check(z.regex(/^\d{1,15}$/, "is not one this API returned")), z.transform(Number)),
  ),
};

/** GET /admin/deliveries: the operator's events about no tenant. */
export const OperatorDeliveryListQuery = z.object(PAGE);

/** GET /admin/tenants/{tenant_id}/deliveries. */
export const DeliveryListQuery = z.object({
  ...PAGE,
  /** The tenant's own events (its webhook), or the operator's events about the tenant. */
  audience: z._default(z.enum(["tenant", "operator"]), "tenant"),
});
