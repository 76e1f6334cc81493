export const MIN_PASSWORD_LENGTH = 12;

/** The console's password rule, checked before sending (the API checks it too). */
export function passwordProblem(value: string): string | null {
  return value.length < MIN_PASSWORD_LENGTH ? `At least ${MIN_PASSWORD_LENGTH} characters.` : null;
}

export function confirmProblem(value: string, password: string): string | null {
  return value === password ? null : "The two passwords differ.";
}
