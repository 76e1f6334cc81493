// Naming customers on screen: their e-mail, else a user id, else the profile id.
import { keepPreviousData, useQuery } from "@tanstack/react-query";

import { getProfilesBatch } from "../../client/profiles/sdk.gen";
import type { ProfileRead } from "../../client/profiles/types.gen";

export function profileLabel(profile: Pick<ProfileRead, "id" | "traits" | "identities"> | undefined, id = ""): string {
  if (!profile) return id;
  const email = profile.traits.email;
  if (typeof email === "string" && email) return email;
  const known = profile.identities.find((i) => i.kind === "email") ?? profile.identities.find((i) => i.kind === "user_id");
  return known?.value ?? profile.id;
}

export function profileName(profile: Pick<ProfileRead, "traits"> | undefined): string | null {
  if (!profile) return null;
  const { first_name: first, last_name: last, name } = profile.traits;
  const parts = [first, last].filter((p): p is string => typeof p === "string" && p !== "");
  if (parts.length) return parts.join(" ");
  return typeof name === "string" && name ? name : null;
}

/** Profiles by id, in one request (POST /v1/profiles/batch, up to 1,000), for naming rows of ids. */
export function useProfilesById(ids: string[]) {
  const sorted = [...new Set(ids)].sort();
  return useQuery({
    queryKey: ["profiles-batch", sorted],
    queryFn: async ({ signal }) => {
      if (!sorted.length) return new Map<string, ProfileRead>();
      const { data } = await getProfilesBatch({ body: { ids: sorted.slice(0, 1000) }, signal, throwOnError: true });
      return new Map(data.items.map((p) => [p.id, p]));
    },
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });
}
