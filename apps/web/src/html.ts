/** HTML built from text that may hold anything a person typed or a server said: escaped, always. */
export class Html {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

const escapeText = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

type Part = Html | string | number | null | undefined | false | readonly Part[];
const render = (part: Part): string => {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  return escapeText(String(part));
};

export const html = (strings: TemplateStringsArray, ...parts: Part[]): Html =>
  new Html(strings.reduce((out, s, i) => out + s + (i < parts.length ? render(parts[i]!) : ''), ''));

export const raw = (text: string) => new Html(text);
