/** The relay's version: in the OpenAPI document and in every webhook's user-agent. */
export const VERSION = "0.1.0";
export const USER_AGENT = `oxen-edit-relay/${VERSION}`;
