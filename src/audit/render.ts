/** Human-readable output of an audit report (cli-table3). */
import Table from 'cli-table3';
import type { AuditReport } from './index';

const CHECK_TITLES: Record<string, string> = {
  'status-callback': 'status callback',
  'status-callback-redirect': 'status callback (302)',
  'concurrent-calls': 'concurrent calls',
  'send-and-wait-timeout': 'Send & Wait timeout',
};

export function renderAuditTable(report: AuditReport, opts: { colour?: boolean } = {}): string {
  const style = opts.colour ? {} : { head: [] as string[], border: [] as string[] };
  const table = new Table({
    head: ['check', 'severity', 'resource', 'finding', 'fix'],
    colWidths: [23, 10, 38, 58, 36],
    wordWrap: true,
    style,
  });
  for (const f of report.findings) {
    const resource = [f.label, f.resourceSid, f.widget ? `widget ${f.widget}` : undefined].filter(Boolean).join('\n');
    let fix: string;
    // URLs do not wrap in a table cell: the full before → after lines follow the table.
    if (f.fixed) fix = 'fixed (see below)';
    else if (f.fixError) fix = `fix failed: ${f.fixError}`;
    else if (f.proposedStatusCallback) fix = `fixable with --fix (see below)`;
    else fix = f.hint ?? '';
    table.push([CHECK_TITLES[f.check] ?? f.check, f.severity, resource, f.message, fix]);
  }
  return table.toString();
}

export function renderAuditText(report: AuditReport, opts: { colour?: boolean } = {}): string {
  const lines: string[] = [];
  const { numbers, numbersOnFlows, flows } = report.scanned;
  lines.push(`Audited account ${report.accountSid}: ${numbers} phone number(s), ${numbersOnFlows} routed to a Studio Flow, ${flows} flow(s).`);
  if (report.findings.length > 0) lines.push(renderAuditTable(report, opts));
  for (const c of report.changes) {
    lines.push(`changed ${c.phoneNumber} (${c.numberSid}) ${c.field}: ${c.before ?? '(none)'} → ${c.after}`);
  }
  for (const f of report.findings) {
    if (f.proposedStatusCallback && !f.fixed && !f.fixError) {
      lines.push(`--fix would change ${f.label} (${f.resourceSid}) status_callback: ${f.statusCallback ?? '(none)'} → ${f.proposedStatusCallback}`);
    }
  }
  const { errors, warnings } = report.remaining;
  if (report.findings.length === 0) lines.push('No findings: clean.');
  else if (errors === 0 && warnings === 0) lines.push('All findings repaired: clean.');
  else lines.push(`${errors} error(s) and ${warnings} warning(s) remain${report.clean ? ' (warnings only: clean)' : ''}.`);
  return lines.join('\n');
}
