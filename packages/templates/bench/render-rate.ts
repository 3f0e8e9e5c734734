// Renders per second of one compiled template: a ~5 KB HTML newsletter reading 10 variables,
// plus subject and text parts. Run: npx tsx packages/templates/bench/render-rate.ts
import { compileTemplate, type RenderContext } from '../src/index';

const paragraph =
  '<tr><td style="padding:12px 24px;font-family:Arial,sans-serif;font-size:15px;line-height:22px;color:#333333">' +
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.' +
  '</td></tr>\n';
const html = [
  '<!doctype html><html><body><table width="600" cellpadding="0" cellspacing="0">',
  '<tr><td><a href="{{ view_in_browser_url }}">View in browser</a></td></tr>',
  '<tr><td><h1>Hello {{ contact.first_name | default: "there" }} {{ contact.last_name }}</h1></td></tr>',
  paragraph.repeat(6),
  '<tr><td>Your plan: {{ contact.plan }} — renews {{ contact.renewal_date }} in {{ contact.city }}</td></tr>',
  paragraph.repeat(6),
  '<tr><td>{% if contact.vip %}Thanks for being a VIP, {{ contact.first_name }}!{% endif %}</td></tr>',
  '<tr><td>Points: {{ contact.points }} · Code: {{ contact.coupon | upcase }}</td></tr>',
  paragraph.repeat(6),
  '<tr><td>{{ campaign.name }} · sent to {{ contact.email }} · <a href="{{ unsubscribe_url }}">Unsubscribe</a></td></tr>',
  '</table></body></html>',
].join('\n');

const template = compileTemplate({
  subject: '{{ contact.first_name | default: "Friend" }}, your {{ campaign.name }} offer',
  html,
  text: 'Hello {{ contact.first_name }}, points {{ contact.points }}. Unsubscribe: {{ unsubscribe_url }}',
});

const contextFor = (i: number): RenderContext => ({
  contact: {
    email: `user${i}@example.com`,
    attributes: {
      first_name: `Ana<${i}>`,
      last_name: 'Lima & Co',
      plan: 'pro',
      renewal_date: '2025-01-01',
      city: 'Lyon',
      vip: i % 2 === 0,
      points: i,
      coupon: 'spring25',
    },
  },
  campaign: { name: 'Spring sale' },
  unsubscribeUrl: `https://t.example/u/${i}`,
  viewInBrowserUrl: `https://t.example/v/${i}`,
});

function measure(seconds: number): number {
  let count = 0;
  let bytes = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  while (performance.now() < until) {
    for (let j = 0; j < 100; j++) bytes += template.render(contextFor(count++)).html?.length ?? 0;
  }
  if (bytes === 0) throw new Error('rendered nothing');
  return count / ((performance.now() - started) / 1000);
}

console.log(`html template: ${html.length} chars, variables: ${template.variables.join(', ')}`);
measure(1);
const rates = [measure(3), measure(3), measure(3)];
console.log(
  `renders/s (subject + html + text), 3 runs: ${rates.map((r) => Math.round(r)).join(', ')}`,
);
