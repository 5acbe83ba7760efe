/** Fred's references, in memory: the example keeps nothing else. */
export interface Reference {
  from: string;
  text: string;
}

const store = globalThis as { references?: Reference[]; lastLink?: string };

store.references ??= [];
/** One list for the whole server, whichever bundle imports this module. */
export const references: Reference[] = store.references;

export function lastLink(): string | undefined {
  return store.lastLink;
}

export function rememberLink(link: string): void {
  store.lastLink = link;
}
