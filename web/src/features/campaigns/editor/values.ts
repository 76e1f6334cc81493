// The editor's form values and the API bodies they become (CampaignCreate / CampaignUpdate), both ways.
import type { CampaignCreate, CampaignRead, CampaignUpdate } from "../../../client/campaigns/types.gen";
import type { AttributionModelName } from "../Attribution";

export type Channel = "email" | "audience_export" | "webhook";
export type ScheduleType = "now" | "at" | "on_entry";
export type AbMetric = "open_rate" | "click_rate" | "conversion_rate";

export interface VariantValues {
  /** The variant's id once saved (for previews of a saved campaign and test sends). */
  id?: string;
  name: string;
  weight: number;
  subject: string;
  body: string;
}

export interface CampaignValues {
  name: string;
  channel: Channel;
  goalEvent: string;
  targetSegments: string[];
  excludeSegments: string[];
  variants: VariantValues[];
  holdoutPercent: number;
  scheduleType: ScheduleType;
  scheduleAt: string;
  capOn: boolean;
  capMax: number;
  capDays: number;
  attributionModel: AttributionModelName;
  windowDays: number;
  abOn: boolean;
  abTestPercent: number;
  abWaitHours: number;
  abMetric: AbMetric;
  webhookUrl: string;
}

export const EMPTY_VARIANT: VariantValues = { name: "A", weight: 1, subject: "", body: "" };

export function emptyValues(): CampaignValues {
  return {
    name: "",
    channel: "email",
    goalEvent: "Order Completed",
    targetSegments: [],
    excludeSegments: [],
    variants: [{ ...EMPTY_VARIANT, subject: "Hello {{ first_name }}", body: "<p>Hello {{ first_name }},</p>\n" }],
    holdoutPercent: 10,
    scheduleType: "now",
    scheduleAt: "",
    capOn: false,
    capMax: 3,
    capDays: 7,
    attributionModel: "last_touch",
    windowDays: 7,
    abOn: false,
    abTestPercent: 20,
    abWaitHours: 4,
    abMetric: "click_rate",
    webhookUrl: "",
  };
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
}

export function valuesOf(campaign: CampaignRead): CampaignValues {
  const schedule = record(campaign.schedule);
  const cap = campaign.frequency_cap ? record(campaign.frequency_cap) : null;
  const attribution = record(campaign.attribution);
  const ab = campaign.ab_test ? record(campaign.ab_test) : null;
  const base = emptyValues();
  return {
    ...base,
    name: campaign.name,
    channel: campaign.channel as Channel,
    goalEvent: campaign.goal_event,
    targetSegments: campaign.target_segments,
    excludeSegments: campaign.exclude_segments,
    variants: campaign.variants.map((v) => {
      const r = record(v);
      const text = (value: unknown) => (typeof value === "string" ? value : "");
      return { id: text(r.id), name: text(r.name), weight: Number(r.weight ?? 1), subject: text(r.subject), body: text(r.body) };
    }),
    holdoutPercent: campaign.holdout_percent,
    scheduleType: (schedule.type as ScheduleType | undefined) ?? "now",
    scheduleAt: typeof schedule.at === "string" ? schedule.at : "",
    capOn: cap !== null,
    capMax: cap ? Number(cap.max) : base.capMax,
    capDays: cap ? Number(cap.days) : base.capDays,
    attributionModel: (attribution.model as AttributionModelName | undefined) ?? "last_touch",
    windowDays: Number(attribution.window_days ?? 7),
    abOn: ab !== null,
    abTestPercent: ab ? Number(ab.test_percent) : base.abTestPercent,
    abWaitHours: ab ? Number(ab.wait_hours) : base.abWaitHours,
    abMetric: (ab?.metric as AbMetric | undefined) ?? base.abMetric,
    webhookUrl: campaign.webhook_url ?? "",
  };
}

function common(values: CampaignValues) {
  return {
    name: values.name.trim(),
    goal_event: values.goalEvent.trim(),
    target_segments: values.targetSegments,
    exclude_segments: values.excludeSegments,
    variants: values.variants.map(({ name, weight, subject, body }) => ({ name: name.trim(), weight, subject, body })),
    holdout_percent: values.holdoutPercent,
    schedule: values.scheduleType === "at" ? { type: "at" as const, at: new Date(values.scheduleAt).toISOString() } : { type: values.scheduleType },
    frequency_cap: values.capOn ? { max: values.capMax, days: values.capDays } : null,
    attribution: { model: values.attributionModel, window_days: values.windowDays },
    webhook_url: values.channel === "webhook" || values.webhookUrl.trim() ? values.webhookUrl.trim() || null : null,
  };
}

export function createBody(values: CampaignValues): CampaignCreate {
  return {
    ...common(values),
    channel: values.channel,
    ab_test: values.abOn ? { test_percent: values.abTestPercent, wait_hours: values.abWaitHours, metric: values.abMetric } : null,
  };
}

export function updateBody(values: CampaignValues): CampaignUpdate {
  return common(values);
}

/** Problems the form can see before sending (the API's 422 covers the rest, shown at its field). */
export function validate(values: CampaignValues): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!values.name.trim()) errors.name = "Give the campaign a name.";
  if (!values.goalEvent.trim()) errors.goalEvent = "Name the event that counts as a conversion.";
  if (values.targetSegments.length === 0) errors.targetSegments = "Choose at least one segment to send to.";
  const names = values.variants.map((v) => v.name.trim());
  values.variants.forEach((v, i) => {
    if (!v.name.trim()) errors[`variants.${i}.name`] = "Name the variant.";
    else if (names.indexOf(v.name.trim()) !== i) errors[`variants.${i}.name`] = "Variant names must differ.";
  });
  if (values.scheduleType === "at" && Number.isNaN(new Date(values.scheduleAt).getTime())) errors.scheduleAt = "Choose when to send.";
  if (values.channel === "webhook" && !values.webhookUrl.trim()) errors.webhookUrl = "The webhook channel needs a URL.";
  if (values.abOn && (values.variants.length < 2 || values.scheduleType === "on_entry")) {
    errors.abOn = "An A/B test needs two variants or more and a one-off schedule.";
  }
  return errors;
}

/** The line a template error names ("… (line 3)"), if any. */
export function errorLine(reason: string | undefined): number | null {
  const match = reason ? /\(line (\d+)\)/.exec(reason) : null;
  return match ? Number(match[1]) : null;
}
