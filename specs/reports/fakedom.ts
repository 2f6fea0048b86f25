// Just enough of a DOM to run the HTML report's own script in Node (no browser on the CI machine): the elements
// it looks up, their attributes and classes, and the listeners it adds, so a spec can click a bar or a marker and
// tick a filter and read what the page shows.
import vm from 'node:vm';

export class FakeElement {
  textContent = '';
  checked = false;
  readonly classes = new Set<string>();
  private readonly listeners = new Map<string, ((e: unknown) => void)[]>();
  readonly classList = {
    add: (c: string): void => void this.classes.add(c),
    remove: (c: string): void => void this.classes.delete(c),
    toggle: (c: string, on: boolean): void => void (on ? this.classes.add(c) : this.classes.delete(c)),
  };

  constructor(readonly attributes: Record<string, string> = {}) {}

  getAttribute(name: string): string | null {
    return this.attributes[name] ?? null;
  }
  hasAttribute(name: string): boolean {
    return name in this.attributes;
  }
  addEventListener(type: string, fn: (e: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  fire(type: string, event: unknown): void {
    for (const fn of this.listeners.get(type) ?? []) fn(event);
  }
}

/** The elements of a page as the script finds them, read from the markup by attribute. */
export interface FakePage {
  details: FakeElement;
  timeline: FakeElement;
  boxes: FakeElement[];
  items: FakeElement[];
  bars: FakeElement[];
  /** Clicks the timeline element carrying these attributes. */
  click(el: FakeElement): void;
}

const attrs = (tag: string): Record<string, string> => Object.fromEntries([...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));

export function runPage(html: string): FakePage {
  const data = /<script type="application\/json" id="bulkhead-data">(.*?)<\/script>/s.exec(html)?.[1] ?? 'null';
  const script = /<script>(.*?)<\/script>/s.exec(html)?.[1] ?? '';
  const byId: Record<string, FakeElement> = { 'bulkhead-data': Object.assign(new FakeElement(), { textContent: data }), details: new FakeElement(), timeline: new FakeElement() };
  const boxes = [...html.matchAll(/<input [^>]*>/g)].map((m) => new FakeElement(attrs(m[0])));
  const items = [...html.matchAll(/<li [^>]*>/g)].map((m) => new FakeElement(attrs(m[0])));
  const bars = [...html.matchAll(/<rect class="bar [^>]*>/g)].map((m) => new FakeElement(attrs(m[0])));
  const lists: Record<string, FakeElement[]> = { '#filters input': boxes, '#tests li': items, 'rect.bar': bars };
  const document = { getElementById: (id: string) => byId[id] ?? null, querySelectorAll: (q: string) => lists[q] ?? [] };
  vm.runInNewContext(script, { document, JSON, Math, Number, Array });
  const timeline = byId['timeline'] as FakeElement;
  return {
    details: byId['details'] as FakeElement,
    timeline,
    boxes,
    items,
    bars,
    click: (el) => timeline.fire('click', { target: { closest: () => el } }),
  };
}
