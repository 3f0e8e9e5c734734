import { RelaisError } from '@relais/domain';
import { describe, expect, it } from 'vitest';
import { compileTemplate } from './compile';
import type { RenderContext } from './types';

const context = (attributes: RenderContext['contact']['attributes'] = {}): RenderContext => ({
  contact: { email: 'ana@example.com', attributes },
  campaign: { name: 'Spring sale' },
  unsubscribeUrl: 'https://t.example/u/abc?x=1&y=2',
  viewInBrowserUrl: 'https://t.example/v/abc',
});

const renderHtml = (html: string, ctx: RenderContext = context()) =>
  compileTemplate({ subject: 's', html }).render(ctx).html;

describe('compileTemplate variable model', () => {
  it('renders the address, flattened attributes, campaign name and link placeholders', () => {
    const template = compileTemplate({
      subject: '{{ campaign.name }} for {{ contact.first_name }}',
      html: '<p>{{ contact.email }} {{ contact.city }}</p><a href="{{ unsubscribe_url }}">u</a>',
      text: 'View: {{ view_in_browser_url }} / Unsubscribe: {{ unsubscribe_url }}',
    });
    expect(template.render(context({ first_name: 'Ana', city: 'Lyon' }))).toEqual({
      subject: 'Spring sale for Ana',
      html: '<p>ana@example.com Lyon</p><a href="https://t.example/u/abc?x=1&amp;y=2">u</a>',
      text: 'View: https://t.example/v/abc / Unsubscribe: https://t.example/u/abc?x=1&y=2',
    });
  });

  it('keeps the address when an attribute is also named email', () => {
    expect(renderHtml('{{ contact.email }}', context({ email: 'attacker@evil.test' }))).toBe(
      'ana@example.com',
    );
  });

  it('renders missing fields as empty and applies default for them', () => {
    const template = compileTemplate({
      subject: 'Hi {{ contact.first_name | default: "there" }}',
      text: '[{{ contact.nope }}][{{ nope.deeper.still }}][{{ campaign.name }}]',
    });
    expect(template.render({ contact: { email: 'a@example.com' } })).toEqual({
      subject: 'Hi there',
      text: '[][][]',
    });
  });

  it('applies default to empty strings too', () => {
    expect(
      renderHtml('{{ contact.first_name | default: "there" }}', context({ first_name: '' })),
    ).toBe('there');
  });

  it('renders nested and list attributes', () => {
    const html = '{{ contact.address.city }}:{% for t in contact.tags %}{{ t }},{% endfor %}';
    expect(renderHtml(html, context({ address: { city: 'Oslo' }, tags: ['a', 'b'] }))).toBe(
      'Oslo:a,b,',
    );
  });

  it('omits the parts the template does not have', () => {
    const rendered = compileTemplate({ subject: 's', text: 't' }).render(context());
    expect(rendered).toEqual({ subject: 's', text: 't' });
    expect('html' in rendered).toBe(false);
  });

  it('lists the variables the template reads', () => {
    const template = compileTemplate({
      subject: '{{ contact.first_name | default: campaign.name }}',
      html: '{% for t in contact.tags %}{{ t }}{% endfor %}<a href="{{ unsubscribe_url }}">',
    });
    expect(template.variables).toEqual([
      'campaign.name',
      'contact.first_name',
      'contact.tags',
      'unsubscribe_url',
    ]);
  });

  it('renders the same compiled template for many recipients independently', () => {
    const template = compileTemplate({ subject: 'Hi {{ contact.n }}', text: '{{ contact.n }}' });
    const subjects = [1, 2, 3].map((n) => template.render(context({ n })).subject);
    expect(subjects).toEqual(['Hi 1', 'Hi 2', 'Hi 3']);
  });

  it('formats dates in UTC whatever the host time zone', () => {
    expect(
      renderHtml(
        '{{ contact.joined | date: "%Y-%m-%d %H:%M" }}',
        context({ joined: '2024-03-01T23:30:00Z' }),
      ),
    ).toBe('2024-03-01 23:30');
  });
});

describe('compileTemplate HTML escaping', () => {
  it('escapes markup in data', () => {
    expect(
      renderHtml(
        '<p>{{ contact.first_name }}</p>',
        context({ first_name: '<script>alert(1)</script>' }),
      ),
    ).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('escapes quotes so data cannot leave an attribute', () => {
    const html = `<a title="{{ contact.x }}" data-y='{{ contact.x }}'>`;
    expect(renderHtml(html, context({ x: `" onmouseover="alert(1)' &` }))).toBe(
      `<a title="&#34; onmouseover=&#34;alert(1)&#39; &amp;" data-y='&#34; onmouseover=&#34;alert(1)&#39; &amp;'>`,
    );
  });

  it('escapes the result of filters and of the echo tag', () => {
    expect(renderHtml('{{ contact.x | upcase }}|{% echo contact.x %}', context({ x: '<b>' }))).toBe(
      '&lt;B&gt;|&lt;b&gt;',
    );
  });

  it('does not escape twice when the template escapes explicitly', () => {
    expect(
      renderHtml(
        '{{ contact.x | escape }}|{{ contact.x | escape_once }}',
        context({ x: '<&amp;>' }),
      ),
    ).toBe('&lt;&amp;amp;&gt;|&lt;&amp;&gt;');
  });

  it('over-escapes rather than under-escapes when a filter follows escape', () => {
    expect(renderHtml('{{ contact.x | escape | append: "!" }}', context({ x: '<' }))).toBe(
      '&amp;lt;!',
    );
  });

  it('leaves the literal markup of the template alone', () => {
    expect(renderHtml('<b class="x">&nbsp;</b>')).toBe('<b class="x">&nbsp;</b>');
  });

  it('outputs unescaped only through the raw filter', () => {
    expect(renderHtml('{{ contact.snippet | raw }}', context({ snippet: '<b>hi</b>' }))).toBe(
      '<b>hi</b>',
    );
  });

  it('does not escape subject or text', () => {
    const template = compileTemplate({ subject: '{{ contact.x }}', text: '{{ contact.x }}' });
    expect(template.render(context({ x: `Tom & "Jerry" <3` }))).toEqual({
      subject: `Tom & "Jerry" <3`,
      text: `Tom & "Jerry" <3`,
    });
  });
});

describe('compileTemplate sandbox', () => {
  it('hides prototype members of objects, strings and arrays', () => {
    const html =
      '[{{ contact.constructor }}][{{ contact.__proto__ }}][{{ contact.email.constructor }}]' +
      '[{{ contact.tags.constructor }}][{{ contact.hasOwnProperty }}][{{ contact.toString }}]';
    expect(renderHtml(html, context({ tags: ['a'] }))).toBe('[][][][][][]');
  });

  it('hides properties the caller passes beyond the variable model', () => {
    const campaign = { name: 'c', secretToken: 'x' };
    const rendered = compileTemplate({ subject: '[{{ campaign.secretToken }}]', text: 't' }).render(
      {
        contact: { email: 'a@example.com' },
        campaign,
      },
    );
    expect(rendered.subject).toBe('[]');
  });

  it.each(['include', 'render', 'layout'])('refuses the %s tag at compile time', (tag) => {
    expect(() => compileTemplate({ subject: 's', html: `{% ${tag} "/etc/passwd" %}` })).toThrow(
      `tag "${tag}" not found`,
    );
  });

  it('refuses unknown filters at compile time', () => {
    expect(() => compileTemplate({ subject: 's', text: '{{ x | shout }}' })).toThrow(
      'undefined filter: shout',
    );
  });

  it('reports a render failure as a non-retryable VALIDATION_FAILED naming the part', () => {
    const template = compileTemplate({
      subject: 's',
      text: '{% for i in (1..100000000) %}{% endfor %}',
    });
    let caught: unknown;
    try {
      template.render(context());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RelaisError);
    expect(caught).toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
      details: { pointer: '/text', line: 1, column: 1, issueCount: 1 },
    });
  });
});
