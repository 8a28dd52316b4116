// The one parser of `Authorization: Bearer <token>`, for tenant tokens and the admin token alike. The scheme
// is case-insensitive (RFC 9110 §11.1); the credentials are one token68 without spaces (RFC 6750 §2.1).
const BEARER = /^Bearer[ ]+([^ ]+)[ ]*$/i;

/** The credentials of a Bearer `Authorization` header, or undefined when there are none. */
export function bearerCredentials(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}
