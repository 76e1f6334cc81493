import type { ReactNode } from "react";

import { usePermissions } from "../auth/session";

/** Renders its children only for roles that may change things (marketer, admin): analysts never see write buttons. */
export function WriteAccess({ children, fallback = null }: { children: ReactNode; fallback?: ReactNode }) {
  return <>{usePermissions().canWrite ? children : fallback}</>;
}

/** Renders its children only for admins. */
export function AdminAccess({ children, fallback = null }: { children: ReactNode; fallback?: ReactNode }) {
  return <>{usePermissions().isAdmin ? children : fallback}</>;
}
