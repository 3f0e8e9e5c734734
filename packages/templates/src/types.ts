/** The three parts of a template as stored: Liquid source. `html` or `text` may be absent, not both. */
export interface TemplateSource {
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
}

/** A JSON-shaped contact attribute, as stored with the contact. */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | readonly AttributeValue[]
  | { readonly [key: string]: AttributeValue };

/** One recipient's data for one render; see README "Variable model" for the names templates see. */
export interface RenderContext {
  contact: {
    email: string;
    /** Flattened under `contact` in templates; an attribute named `email` is shadowed by the address. */
    attributes?: Readonly<Record<string, AttributeValue>> | undefined;
  };
  campaign?: { name: string } | undefined;
  /** Seen by templates as `unsubscribe_url`. */
  unsubscribeUrl?: string | undefined;
  /** Seen by templates as `view_in_browser_url`. */
  viewInBrowserUrl?: string | undefined;
}

/** The personalized message: `html`/`text` are present exactly when the template has that part. */
export interface RenderedMessage {
  /** One line: control characters folded to spaces, encoded-word lookalikes disarmed. */
  subject: string;
  html?: string | undefined;
  text?: string | undefined;
}

/** Which part of a template a problem is in, as a JSON pointer into `TemplateSource`. */
export type TemplatePointer = '/subject' | '/html' | '/text';

/** One problem found in a template part; `line`/`column` are 1-based when the engine knows them. */
export interface TemplateIssue {
  pointer: TemplatePointer;
  message: string;
  line?: number | undefined;
  column?: number | undefined;
}

/** Work bounds for a hostile or broken template; every part is parsed and rendered within them. */
export interface TemplateLimits {
  /** Longest accepted source of one part, in characters (liquidjs `parseLimit`). */
  maxSourceChars: number;
  /** Wall-clock budget of one part's render (liquidjs `renderLimit`), checked between nodes. */
  renderTimeoutMs: number;
  /**
   * Allocation budget of one part's render (liquidjs `memoryLimit`): range sizes, array
   * elements and string lengths built by filters and escaped output. Bounds the single-node work
   * (`sort` of a huge range) that the time budget cannot interrupt.
   */
  maxAllocations: number;
}
