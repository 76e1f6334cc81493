// Settings: people and invitations, API keys, the audit log and tracking sources (administrators).
import { Tabs } from "@mantine/core";
import { Outlet, createFileRoute, useNavigate, useRouterState } from "@tanstack/react-router";

import { usePermissions } from "../../auth/session";
import { PageHeader } from "../../components/PageHeader";

export const Route = createFileRoute("/_console/settings")({
  component: SettingsLayout,
});

const TABS = [
  { to: "/settings/users", label: "Users and invitations" },
  { to: "/settings/api-keys", label: "API keys" },
  { to: "/settings/audit", label: "Audit log" },
  { to: "/settings/sources", label: "Sources and website tag" },
] as const;

function SettingsLayout() {
  const pathname = useRouterState({ select: (s) => s.location.pathname });
  const navigate = useNavigate();
  const { isAdmin } = usePermissions();
  const current = TABS.find((t) => pathname.startsWith(t.to))?.to ?? null;
  return (
    <>
      <PageHeader
        title="Settings"
        description={isAdmin ? "Who can log in, keys for integrations, who did what, and where events come from." : "Administrators manage these settings; you can read what your role allows."}
      />
      <Tabs value={current} onChange={(to) => to && void navigate({ to: to as (typeof TABS)[number]["to"] })} mb="md">
        <Tabs.List style={{ overflowX: "auto", flexWrap: "nowrap" }}>
          {TABS.map((t) => (
            <Tabs.Tab key={t.to} value={t.to}>
              {t.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
      </Tabs>
      <Outlet />
    </>
  );
}
