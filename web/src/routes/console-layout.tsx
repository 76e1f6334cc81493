// The console's frame: navigation, the user's name and role, log-out. Every screen inside needs a session; without
// one the browser goes to the login page and comes back here afterwards.
import { AppShell, Badge, Burger, Group, Menu, ScrollArea, Stack, Text, UnstyledButton } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import {
  IconChartDots3,
  IconChevronDown,
  IconHome,
  IconKey,
  IconLogout,
  IconMail,
  IconMessageCircle,
  IconMessages,
  IconMoodSmile,
  IconPresentationAnalytics,
  IconRepeat,
  IconSettings,
  IconUsers,
  IconUsersGroup,
} from "@tabler/icons-react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, createFileRoute, redirect, useNavigate, useRouterState } from "@tanstack/react-router";
import type { ReactNode } from "react";

import { isStatus } from "../api/errors";
import { logOutMutation } from "../client/console/@tanstack/react-query.gen";
import { ROLE_LABELS, meQueryOptions, usePermissions } from "../auth/session";
import { NavLinkItem } from "../components/links";

export const Route = createFileRoute("/_console")({
  beforeLoad: async ({ context, location }) => {
    try {
      await context.queryClient.ensureQueryData(meQueryOptions());
    } catch (error) {
      if (isStatus(error, 401)) throw redirect({ to: "/login", search: { redirect: location.href } });
      throw error;
    }
  },
  component: ConsoleLayout,
});

interface NavEntry {
  to: "/" | "/segments" | "/customers" | "/models" | "/campaigns" | "/analytics" | "/satisfaction" | "/retention" | "/social" | "/feedback" | "/settings";
  label: string;
  icon: ReactNode;
  soon?: boolean;
}

const NAV: NavEntry[] = [
  { to: "/", label: "Overview", icon: <IconHome size={18} aria-hidden /> },
  { to: "/segments", label: "Segments", icon: <IconUsersGroup size={18} aria-hidden /> },
  { to: "/customers", label: "Customers", icon: <IconUsers size={18} aria-hidden /> },
  { to: "/models", label: "Models", icon: <IconChartDots3 size={18} aria-hidden /> },
  { to: "/campaigns", label: "Campaigns", icon: <IconMail size={18} aria-hidden /> },
  { to: "/analytics", label: "Analytics", icon: <IconPresentationAnalytics size={18} aria-hidden /> },
  { to: "/satisfaction", label: "Satisfaction", icon: <IconMoodSmile size={18} aria-hidden /> },
  { to: "/retention", label: "Retention", icon: <IconRepeat size={18} aria-hidden /> },
  { to: "/social", label: "Social", icon: <IconMessages size={18} aria-hidden /> },
  { to: "/feedback", label: "Feedback", icon: <IconMessageCircle size={18} aria-hidden /> },
  { to: "/settings", label: "Settings", icon: <IconSettings size={18} aria-hidden /> },
];

function isActive(pathname: string, to: string): boolean {
  return to === "/" ? pathname === "/" : pathname === to || pathname.startsWith(`${to}/`);
}

function ConsoleLayout() {
  const [opened, { toggle, close }] = useDisclosure(false);
  const pathname = useRouterState({ select: (s) => s.location.pathname });
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 232, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding={{ base: "sm", sm: "lg" }}
    >
      <AppShell.Header>
        <a href="#main" className="skip-link">
          Skip to content
        </a>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Text component={Link} to="/" fw={800} fz="lg" c="var(--mantine-color-text)" td="none">
              Tessera
            </Text>
          </Group>
          <UserMenu />
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main navigation">
        <AppShell.Section grow component={ScrollArea}>
          <nav>
            <Stack gap={2}>
              {NAV.map((item) => (
                <NavLinkItem
                  key={item.to}
                  to={item.to}
                  label={item.label}
                  leftSection={item.icon}
                  rightSection={
                    item.soon ? (
                      <Badge size="xs" variant="light" color="gray">
                        soon
                      </Badge>
                    ) : undefined
                  }
                  active={isActive(pathname, item.to)}
                  aria-current={isActive(pathname, item.to) ? "page" : undefined}
                  onClick={close}
                />
              ))}
            </Stack>
          </nav>
        </AppShell.Section>
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Outlet />
      </AppShell.Main>
    </AppShell>
  );
}

function UserMenu() {
  const { me } = usePermissions();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const logout = useMutation({
    ...logOutMutation(),
    onSettled: async () => {
      await navigate({ to: "/login" });
      queryClient.clear();
    },
  });
  if (!me) return null;
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <UnstyledButton aria-haspopup="menu">
          <Group gap="xs" wrap="nowrap">
            <Stack gap={0} align="flex-end" visibleFrom="xs">
              <Text size="sm" fw={600} lh={1.2}>
                {me.name}
              </Text>
              <Text size="xs" c="dimmed" lh={1.2}>
                {me.email}
              </Text>
            </Stack>
            <Badge variant="light" data-testid="role-badge">
              {ROLE_LABELS[me.role]}
            </Badge>
            <IconChevronDown size={14} aria-hidden />
          </Group>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>{me.email}</Menu.Label>
        <Menu.Item component={Link} to="/account" leftSection={<IconKey size={16} aria-hidden />}>
          Change password
        </Menu.Item>
        <Menu.Item
          leftSection={<IconLogout size={16} aria-hidden />}
          onClick={() => logout.mutate({})}
          disabled={logout.isPending}
        >
          Log out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
