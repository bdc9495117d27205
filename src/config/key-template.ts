/**
 * The grammar of ship.keyTemplate, validated with the configuration: {prefix} {yyyy} {MM} {dd}
 * {HH} {instance} {seq} {ext}, and the three that keep keys unique. Keys are made in
 * ship/key-template.ts.
 */

export const DEFAULT_KEY_TEMPLATE = '{prefix}/{yyyy}/{MM}/{dd}/{HH}/{instance}-{seq}.{ext}';
export const PLACEHOLDER = /\{(prefix|yyyy|MM|dd|HH|instance|seq|ext)\}/g;

export function validateKeyTemplate(template: string): string | null {
  const rest = template.replace(PLACEHOLDER, '');
  if (/[{}]/.test(rest)) return 'unknown placeholder (use {prefix} {yyyy} {MM} {dd} {HH} {instance} {seq} {ext})';
  for (const needed of ['{instance}', '{seq}', '{ext}']) if (!template.includes(needed)) return `must contain ${needed} so keys stay unique`;
  return null;
}
