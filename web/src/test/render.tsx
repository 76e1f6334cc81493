import { MantineProvider } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement, ReactNode } from "react";

import { meQueryKey, type Me, type Role } from "../auth/session";

export function testQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: { queries: { retry: false, staleTime: Number.POSITIVE_INFINITY }, mutations: { retry: false } },
  });
}

export function me(role: Role): Me {
  return {
    id: `u-${role}`,
    email: `${role}@example.com`,
    name: `${role[0]?.toUpperCase() ?? ""}${role.slice(1)} User`,
    role,
    csrf_token: "csrf",
    expires_at: "2030-01-01T00:00:00Z",
  };
}

export function Providers({ client, children }: { client: QueryClient; children: ReactNode }) {
  return (
    <MantineProvider env="test">
      <QueryClientProvider client={client}>
        <ModalsProvider>{children}</ModalsProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}

/** Render inside Mantine and a query client; `role` puts a logged-in user of that role in the cache. */
export function renderWithProviders(ui: ReactElement, { role, client = testQueryClient() }: { role?: Role; client?: QueryClient } = {}) {
  if (role) client.setQueryData(meQueryKey, me(role));
  return { client, ...render(<Providers client={client}>{ui}</Providers>) };
}
