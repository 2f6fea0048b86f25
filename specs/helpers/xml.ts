// A small well-formedness check for the XML reporters write: every element closed in order, one root,
// attributes quoted. Enough to tell a complete report from a truncated or garbled one; not a validating parser.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
}

/** The elements of a well-formed document in document order; throws on the first structural error. */
export function parseXml(text: string): XmlElement[] {
  const elements: XmlElement[] = [];
  const open: string[] = [];
  let roots = 0;
  const token = /<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<\/([\w:.-]+)\s*>|<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|<|[^<]+/g;
  for (const m of text.matchAll(token)) {
    const [whole, closing, name, attrs, selfClosing] = m;
    if (whole === '<') throw new Error(`malformed markup at offset ${m.index}`);
    if (closing !== undefined) {
      const expected = open.pop();
      if (expected !== closing) throw new Error(`</${closing}> closes <${expected ?? 'nothing'}> at offset ${m.index}`);
    } else if (name !== undefined) {
      if (open.length === 0 && ++roots > 1) throw new Error(`a second root element <${name}>`);
      const attributes: Record<string, string> = {};
      for (const a of (attrs ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attributes[a[1] ?? ''] = a[2] ?? a[3] ?? '';
      elements.push({ name, attributes });
      if (selfClosing !== '/') open.push(name);
    } else if (!whole.startsWith('<') && open.length === 0 && whole.trim() !== '') {
      throw new Error(`text outside the root element at offset ${m.index}`);
    }
  }
  if (open.length > 0) throw new Error(`unclosed <${open.join('>, <')}>`);
  if (roots !== 1) throw new Error('no root element');
  return elements;
}
