// One place that sets up the five generated clients: same-origin cookies, the CSRF header on unsafe methods, errors as
// ApiError, and a way out to the login page when the session has ended.
import { client as campaigns } from "../client/campaigns/client.gen";
import { client as consoleClient } from "../client/console/client.gen";
import { client as profiles } from "../client/profiles/client.gen";
import { client as segmentation } from "../client/segmentation/client.gen";
import { client as tracking } from "../client/tracking/client.gen";
import { toApiError } from "./errors";

export const clients = [consoleClient, tracking, profiles, segmentation, campaigns];

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// Answers of these are about logging in: a 401 there is a wrong password or no session yet, not an expired one.
const AUTH_PATHS = /^\/api\/(auth\/|invitations\/[^/]+\/(info|accept)$)/;

export interface ClientHooks {
  /** The session's CSRF token, if logged in. */
  csrfToken: () => string | undefined;
  /** Called when any API says 401 outside the login flow: the session has ended. */
  onSessionEnded: () => void;
}

let configured = false;

export function configureClients(hooks: ClientHooks): void {
  if (configured) return;
  configured = true;
  for (const client of clients) {
    client.setConfig({ credentials: "same-origin" });
    client.interceptors.request.use((request) => {
      const token = hooks.csrfToken();
      if (token && UNSAFE.has(request.method)) request.headers.set("X-CSRF-Token", token);
      return request;
    });
    client.interceptors.error.use((error, response, request) => {
      const apiError = toApiError(error, response);
      if (apiError.status === 401 && request && !AUTH_PATHS.test(new URL(request.url).pathname)) {
        hooks.onSessionEnded();
      }
      return apiError;
    });
  }
}
