import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import "./styles.css";

import { MantineProvider } from "@mantine/core";
import { ModalsProvider } from "@mantine/modals";
import { Notifications } from "@mantine/notifications";
import { QueryClientProvider } from "@tanstack/react-query";
import { RouterProvider } from "@tanstack/react-router";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { configureClients } from "./api/clients";
import { createQueryClient } from "./api/query-client";
import { meQueryKey, type Me } from "./auth/session";
import { createAppRouter } from "./router";
import { cssVariablesResolver, theme } from "./theme";

const queryClient = createQueryClient();
const router = createAppRouter(queryClient);

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}

configureClients({
  csrfToken: () => queryClient.getQueryData<Me>(meQueryKey)?.csrf_token,
  onSessionEnded: () => {
    // Every request of the page may say 401 at once: go to the login page once, remembering where we were.
    const { pathname, href } = router.state.location;
    queryClient.removeQueries({ queryKey: meQueryKey });
    if (pathname !== "/login") void router.navigate({ to: "/login", search: { redirect: href } });
  },
});

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} defaultColorScheme="auto">
      <QueryClientProvider client={queryClient}>
        <ModalsProvider>
          <Notifications position="top-right" />
          <RouterProvider router={router} />
        </ModalsProvider>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
