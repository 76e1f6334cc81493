// Skip reasons as services/campaigns/eligibility.py and the launch name them, in words.
const REASONS: Record<string, string> = {
  no_email: "No email address",
  no_email_consent: "No email consent",
  no_ads_consent: "No advertising consent",
  no_webhook_consent: "No consent",
  bounced: "Bounced before",
  frequency_cap: "Over the frequency cap",
  already_exposed: "Already reached by this campaign",
};

export function reasonLabel(reason: string | null | undefined): string {
  if (!reason) return "–";
  return REASONS[reason] ?? (reason.startsWith("no_") && reason.endsWith("_consent") ? `No ${reason.slice(3, -8)} consent` : reason.replaceAll("_", " "));
}

const OUTCOMES: Record<string, string> = {
  pending: "Pending",
  sent: "Sent",
  held_out: "Held out",
  skipped: "Skipped",
  waiting: "Waiting for the A/B winner",
  failed: "Failed",
  unknown: "Unknown",
};

export function outcomeLabel(outcome: string): string {
  return OUTCOMES[outcome] ?? outcome;
}

export const OUTCOME_VALUES = Object.keys(OUTCOMES);
