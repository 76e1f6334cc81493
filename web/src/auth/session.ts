// The logged-in user and what their role lets them do. The console layout loads `me` before any screen renders.
import { useQuery } from "@tanstack/react-query";

import { getMeOptions, getMeQueryKey } from "../client/console/@tanstack/react-query.gen";
import type { MeRead } from "../client/console/types.gen";

export type Me = MeRead;
export type Role = MeRead["role"];

export const meQueryKey = getMeQueryKey();

export function meQueryOptions() {
  return { ...getMeOptions(), staleTime: 60_000 };
}

export const ROLE_LABELS: Record<Role, string> = { admin: "Admin", marketer: "Marketer", analyst: "Analyst" };

/** Marketers and admins change things; analysts read. */
export function canWrite(role: Role | undefined): boolean {
  return role === "admin" || role === "marketer";
}

export function isAdmin(role: Role | undefined): boolean {
  return role === "admin";
}

export interface Permissions {
  me: Me | undefined;
  role: Role | undefined;
  canWrite: boolean;
  isAdmin: boolean;
}

/** What the current user may do; nothing while `me` is not known. */
export function usePermissions(): Permissions {
  const { data: me } = useQuery(meQueryOptions());
  return { me, role: me?.role, canWrite: canWrite(me?.role), isAdmin: isAdmin(me?.role) };
}

/** A safe place to go after logging in: a path of this app, never another site. */
export function safeRedirect(target: unknown): string {
  if (typeof target !== "string" || !target.startsWith("/") || target.startsWith("//") || target.startsWith("/\\")) {
    return "/";
  }
  if (/^\/(login|setup|invite)(\/|\?|$)/.test(target)) return "/";
  return target;
}
