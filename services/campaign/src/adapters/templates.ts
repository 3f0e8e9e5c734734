import { RelaisError, type TenantId } from '@relais/domain';
import type { Queryable } from '@relais/store';
import {
  compileTemplate,
  validateTemplate,
  type AttributeValue,
  type RenderedMessage,
} from '@relais/templates';

/** A stored template: Liquid source for the subject, HTML and text parts. */
export interface Template {
  id: string;
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type Row = {
  id: string;
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
  created_at: Date;
  updated_at: Date;
};
const COLUMNS = 'id, name, subject, html, text, created_at, updated_at';
const toTemplate = (row: Row): Template => ({
  id: row.id,
  name: row.name,
  subject: row.subject,
  html: row.html,
  text: row.text,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
const notFound = () =>
  new RelaisError('NOT_FOUND', 'No template with this id.', {
    details: { parameter: 'templateId' },
  });

export interface TemplateInput {
  name: string;
  subject: string;
  html?: string | null | undefined;
  text?: string | null | undefined;
}

export async function createTemplate(
  db: Queryable,
  tenantId: TenantId,
  input: TemplateInput,
): Promise<Template> {
  validateTemplate({
    subject: input.subject,
    html: input.html ?? undefined,
    text: input.text ?? undefined,
  });
  const { rows } = await db.query<Row>(
    `INSERT INTO templates (id, tenant_id, name, subject, html, text)
     VALUES (gen_random_uuid(), $1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [tenantId, input.name, input.subject, input.html ?? null, input.text ?? null],
  );
  return toTemplate(rows[0]!);
}

export async function getTemplate(
  db: Queryable,
  tenantId: TenantId,
  templateId: string,
): Promise<Template> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM templates WHERE tenant_id = $1 AND id = $2`,
    [tenantId, templateId],
  );
  if (!rows[0]) throw notFound();
  return toTemplate(rows[0]);
}

/** Replaces the template as a whole: subject, html and text are validated together. */
export async function replaceTemplate(
  db: Queryable,
  tenantId: TenantId,
  templateId: string,
  input: TemplateInput,
): Promise<Template> {
  validateTemplate({
    subject: input.subject,
    html: input.html ?? undefined,
    text: input.text ?? undefined,
  });
  const { rows } = await db.query<Row>(
    `UPDATE templates SET name = $3, subject = $4, html = $5, text = $6, updated_at = now()
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, templateId, input.name, input.subject, input.html ?? null, input.text ?? null],
  );
  if (!rows[0]) throw notFound();
  return toTemplate(rows[0]);
}

export async function deleteTemplate(
  db: Queryable,
  tenantId: TenantId,
  templateId: string,
): Promise<void> {
  const { rows } = await db.query<{ used: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM campaign_variants WHERE tenant_id = $1 AND template_id = $2) AS used`,
    [tenantId, templateId],
  );
  if (rows[0]?.used) {
    throw new RelaisError(
      'STATE_CONFLICT',
      'The template is used by a campaign; it cannot be deleted.',
      {
        details: { parameter: 'templateId' },
      },
    );
  }
  const { rowCount } = await db.query(`DELETE FROM templates WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    templateId,
  ]);
  if (rowCount === 0) throw notFound();
}

export async function listTemplates(db: Queryable, tenantId: TenantId): Promise<Template[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM templates WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(toTemplate);
}

/** Renders a stored template for one contact exactly as the dispatcher will. */
export function renderPreview(
  template: Template,
  contact: { email: string; attributes: Record<string, unknown> },
  campaignName?: string,
): RenderedMessage {
  const compiled = compileTemplate({
    subject: template.subject,
    html: template.html ?? undefined,
    text: template.text ?? undefined,
  });
  return compiled.render({
    contact: {
      email: contact.email,
      attributes: contact.attributes as Record<string, AttributeValue>,
    },
    campaign: campaignName ? { name: campaignName } : undefined,
    unsubscribeUrl: 'https://example.invalid/unsubscribe/preview',
    viewInBrowserUrl: 'https://example.invalid/view/preview',
  });
}
