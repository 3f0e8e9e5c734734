import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { COMPONENT_TEMPLATES } from '../src/elasticsearch/templates';
import { KIBANA_OBJECTS } from '../scripts/kibana-objects';

const file = new URL('../../../deploy/kibana/relais.ndjson', import.meta.url);

interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references: { type: string; id: string; name: string }[];
}

/** Every field path the events templates map (`a.b.c`), multi-fields included. */
function mappedFields(): Set<string> {
  const out = new Set<string>();
  const walk = (properties: Record<string, any>, prefix: string) => {
    for (const [name, mapping] of Object.entries(properties)) {
      const path = `${prefix}${name}`;
      if (mapping.properties) walk(mapping.properties, `${path}.`);
      else out.add(path);
      for (const sub of Object.keys(mapping.fields ?? {})) out.add(`${path}.${sub}`);
    }
  };
  for (const component of Object.values(COMPONENT_TEMPLATES) as any[]) {
    walk(component.template.mappings?.properties ?? {}, '');
  }
  return out;
}

describe('Kibana saved objects (deploy/kibana/relais.ndjson)', async () => {
  const text = await readFile(file, 'utf8');
  const lines = text.split('\n').filter((line) => line.length > 0);
  const objects = lines.map((line) => JSON.parse(line) as SavedObject);
  const byKey = new Map(objects.map((o) => [`${o.type}:${o.id}`, o]));

  it('holds one saved object per line with the fields an import needs', () => {
    expect(text.endsWith('\n')).toBe(true);
    expect(objects.length).toBeGreaterThan(10);
    for (const object of objects) {
      expect(object).toEqual(
        expect.objectContaining({
          type: expect.any(String),
          id: expect.stringMatching(/^[a-z0-9-]+$/),
          attributes: expect.objectContaining({ title: expect.any(String) }),
          references: expect.any(Array),
        }),
      );
    }
    expect(byKey.size).toBe(objects.length);
    expect(objects.map((o) => o.type)).toEqual(
      expect.arrayContaining(['index-pattern', 'lens', 'dashboard']),
    );
  });

  it('resolves every reference to an object of the file, listed before it', () => {
    objects.forEach((object, index) => {
      for (const ref of object.references) {
        expect(ref.name).toEqual(expect.any(String));
        const target = byKey.get(`${ref.type}:${ref.id}`);
        expect(target, `${object.id} -> ${ref.type}:${ref.id}`).toBeDefined();
        expect(objects.indexOf(target!)).toBeLessThan(index);
      }
    });
  });

  it('has a data view over the events data streams', () => {
    expect(byKey.get('index-pattern:relais-events')?.attributes).toMatchObject({
      title: 'relais-events-*',
      timeFieldName: '@timestamp',
    });
  });

  it('gives every dashboard panel a reference and the four dashboards their panels', () => {
    const dashboards = objects.filter((o) => o.type === 'dashboard');
    expect(dashboards.map((d) => d.id)).toEqual([
      'relais-deliverability',
      'relais-campaign-kpis',
      'relais-throttling',
      'relais-anomalies',
    ]);
    for (const dashboard of dashboards) {
      const panels = JSON.parse(dashboard.attributes['panelsJSON'] as string) as {
        panelRefName: string;
        gridData: { x: number; w: number };
      }[];
      expect(panels.length).toBeGreaterThan(0);
      const names = new Set(dashboard.references.map((r) => r.name));
      for (const panel of panels) {
        expect(names.has(panel.panelRefName)).toBe(true);
        expect(panel.gridData.x + panel.gridData.w).toBeLessThanOrEqual(48);
      }
    }
  });

  it('charts only fields the events templates map, through the data view', () => {
    const fields = mappedFields();
    for (const object of objects.filter((o) => o.type === 'lens')) {
      const state = object.attributes['state'] as any;
      const layers = state.datasourceStates.formBased.layers as Record<string, any>;
      for (const [layerId, layer] of Object.entries(layers)) {
        expect(object.references).toContainEqual({
          type: 'index-pattern',
          id: 'relais-events',
          name: `indexpattern-datasource-layer-${layerId}`,
        });
        for (const column of Object.values<{ sourceField: string }>(layer.columns)) {
          if (column.sourceField === '___records___') continue;
          expect(fields, `${object.id}: ${column.sourceField}`).toContain(column.sourceField);
        }
      }
    }
  });

  it('is what the generator writes (pnpm --filter @relais/analytics kibana:objects)', () => {
    expect(objects).toEqual(JSON.parse(JSON.stringify(KIBANA_OBJECTS)));
  });
});
