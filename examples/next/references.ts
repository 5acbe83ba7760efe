/** Fred's references, in memory: the example keeps nothing else. */
export interface Reference {
  from: string;
  text: string;
}

const store = globalThis as { references?: Reference[]; lastLink?: string };

export const references = (store.references ??= []);

export function lastLink(): string | undefined {
  return store.lastLink;
}

export function rememberLink(link: string): void {
  store.lastLink = link;
}
