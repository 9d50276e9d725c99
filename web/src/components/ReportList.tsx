import { Button } from "@heroui/react";
import { useNav } from "../lib/nav";
import { Actor } from "../lib/directory";
import type { ReportSummary } from "../lib/types";
import { Badge, Empty, Table } from "./ui";
import { formatDate } from "../lib/format";

export function ReportList({ items: unsorted, emptyTitle, emptyText, highlightAuthor }: { items: ReportSummary[]; emptyTitle: string; emptyText?: string; highlightAuthor?: string }) {
  const { go } = useNav();
  if (unsorted.length === 0) return <Empty title={emptyTitle}>{emptyText}</Empty>;
  const items = [...unsorted].sort((a, b) => (b.createdAt ?? "").localeCompare(a.createdAt ?? ""));
  return (
    <Table caption="Reports" head={["Report", "Author", "Recorded", "Version", "Report ID", ""]}>
      {items.map((r) => (
        <tr key={`${r.reportId}-${r.version}`} className="hover:bg-slate-50">
          <td className="px-3 py-2 font-medium text-slate-900">
            {r.title || "Case report"}
            {r.emergency && <span className="ml-2"><Badge tone="danger">Emergency</Badge></span>}
          </td>
          <td className="px-3 py-2">
            <Actor username={r.author} msp={r.authorMsp} />
            {highlightAuthor === r.author && <span className="ml-1 text-xs text-slate-500">(you)</span>}
          </td>
          <td className="px-3 py-2 whitespace-nowrap">{formatDate(r.createdAt)}</td>
          <td className="px-3 py-2">v{r.version}</td>
          <td className="px-3 py-2 font-mono text-xs">{r.reportId.slice(0, 12)}</td>
          <td className="px-3 py-2 text-right">
            <Button size="sm" variant="secondary" onPress={() => go({ screen: "report", reportId: r.reportId })} aria-label={`Open ${r.title || "report " + r.reportId.slice(0, 12)}`}>
              Open
            </Button>
          </td>
        </tr>
      ))}
    </Table>
  );
}
