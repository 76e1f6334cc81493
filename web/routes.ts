// The route tree: public pages, then everything behind the console layout (login required), one folder per screen
// family under src/routes/ (TanStack Router virtual file routes mounting physical folders).
import { index, layout, physical, rootRoute, route } from "@tanstack/virtual-file-routes";

export const routes = rootRoute("__root.tsx", [
  route("/login", "auth/login.tsx"),
  route("/setup", "auth/setup.tsx"),
  route("/invite/$token", "auth/invite.tsx"),
  layout("console", "console-layout.tsx", [
    index("overview/index.tsx"),
    physical("/segments", "segments"),
    physical("/customers", "customers"),
    physical("/models", "models"),
    physical("/settings", "settings"),
    physical("/account", "account"),
    physical("/campaigns", "campaigns"),
    physical("/analytics", "analytics"),
    physical("/satisfaction", "satisfaction"),
    physical("/retention", "retention"),
    physical("/social", "social"),
    physical("/feedback", "feedback"),
  ]),
]);
