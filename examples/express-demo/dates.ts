const format = new Intl.DateTimeFormat("en-GB", {
  dateStyle: "medium",
  timeStyle: "short",
  timeZone: "UTC",
});

/** The one way the demo writes a moment for people, on its pages and in its emails alike. */
export function formatDate(date: Date): string {
  return `${format.format(date)} UTC`;
}
