import { DEFAULT_ROLES } from "gatehouse-auth";
import type { MailStatus } from "./adminApi";

/**
 * What the admin console's pages read of their address, as both routers' pages hand it to the shared views:
 * a query value is one string (a repeated parameter or none at all is empty), trimmed and cut to what the API
 * would take anyway.
 */
export function queryValue(value: string | string[] | undefined, max = 254): string {
  return typeof value === "string" ? value.trim().slice(0, max) : "";
}

/** `?status=` of the mail page: one of the outbox's statuses, or empty for all. */
export function mailStatusOf(value: string | string[] | undefined): MailStatus | "" {
  const status = queryValue(value);
  return status === "pending" || status === "sent" || status === "failed" ? status : "";
}

/** The roles an admin can give: the app configures no others than Gatehouse's own. */
export const ROLES: string[] = Object.keys(DEFAULT_ROLES);

/** The role that opens the admin console, as the admin API requires it. */
export const ADMIN_ROLE = "admin";
