import { CloseButton, Notification, createTheme } from "@mantine/core";
import type { CloseButtonProps } from "@mantine/core";
import type { CSSVariablesResolver } from "@mantine/core";

// Mantine's defaults meet WCAG AA contrast for text on its light and dark backgrounds; dimmed text is darkened a
// little further in light mode, where gray.6 on white is close to the limit.
export const theme = createTheme({
  primaryColor: "blue",
  primaryShade: { light: 8, dark: 5 },
  defaultRadius: "md",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
  headings: { fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif" },
  focusRing: "auto",
  // Mantine's close buttons (notifications, alerts, inputs' clear buttons) have no accessible name of their own.
  components: {
    CloseButton: CloseButton.extend({ defaultProps: { "aria-label": "Close" } as Partial<CloseButtonProps> }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { "aria-label": "Close notification" } } }),
  },
});

// Text of the light variant (badges, light buttons, alerts) in light mode: Mantine's shade 9 on its shade 1 is under
// the 4.5:1 AA needs for green (3.8), lime, orange, teal and yellow (2.7). These are shade 9 darkened until they reach
// 4.8:1 on shade 2 (the hover background), so every light badge passes.
const LIGHT_TEXT: Record<string, string> = {
  blue: "#155896", cyan: "#0a6475", grape: "#812c96", green: "#226e32", indigo: "#3046af", lime: "#46700a",
  orange: "#a9380c", pink: "#a31d4b", red: "#a92323", teal: "#076d4e", violet: "#5637b0", yellow: "#9c5100",
};

/** Dimmed text one shade darker in light mode (gray.7 on white is 8.6:1 where gray.6 is 3.3:1; AA needs 4.5:1), and
 * the light variant's text dark enough on its tinted background. */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: {
    "--mantine-color-dimmed": "var(--mantine-color-gray-7)",
    ...Object.fromEntries(Object.entries(LIGHT_TEXT).map(([color, hex]) => [`--mantine-color-${color}-light-color`, hex])),
  },
  dark: {},
});
